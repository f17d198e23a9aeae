// A pure single-page app: no server rendering, no prerendering; the server serves index.html.
export const ssr = false;
export const prerender = false;
