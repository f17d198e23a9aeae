/** How a file with a preview address is shown. */
export type PreviewKind = 'image' | 'video' | 'audio' | 'pdf' | 'text';

/** The way to show a file whose preview route serves it (the route decides which do). */
export function previewKindOf(file: { mimeType: string; name: string; size: number }): PreviewKind {
  const type = file.mimeType;
  // TypeScript sources are guessed as MPEG transport streams from their extension (real ones
  // are sniffed from their bytes and rarely this small): shown as the code they are.
  if (type === 'video/mp2t' && /\.tsx?$/i.test(file.name) && file.size < 4 * 1024 * 1024) {
    return 'text';
  }
  if (type === 'application/pdf') return 'pdf';
  if (type.startsWith('image/') && type !== 'image/svg+xml') return 'image';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('audio/')) return 'audio';
  return 'text';
}
