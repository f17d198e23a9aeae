// Moved to the one component kit; the statistics page still imports it from here.
export * from '$lib/components/url';
