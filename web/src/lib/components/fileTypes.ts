import { fileKind } from '$lib/components/FileTypeIcon.svelte';

export type TypeTag = 'Image' | 'Video' | 'Audio' | 'Other';

const BY_EXTENSION: Record<string, TypeTag> = {
  jpg: 'Image',
  jpeg: 'Image',
  png: 'Image',
  gif: 'Image',
  webp: 'Image',
  avif: 'Image',
  svg: 'Image',
  heic: 'Image',
  bmp: 'Image',
  tif: 'Image',
  tiff: 'Image',
  ico: 'Image',
  mp4: 'Video',
  mov: 'Video',
  mkv: 'Video',
  webm: 'Video',
  avi: 'Video',
  m4v: 'Video',
  mp3: 'Audio',
  wav: 'Audio',
  flac: 'Audio',
  ogg: 'Audio',
  m4a: 'Audio',
  aac: 'Audio',
  opus: 'Audio',
};

/**
 * The type tag the server would give the file (Image, Video, Audio or Other, from the sniffed
 * content type: typeTagFor in server/src/modules/files/files.rules.ts), guessed
 * from the type the browser reports, else from the extension. Only a suggestion: the admin may
 * remove it before uploading.
 */
export function guessTypeTag(file: { name: string; type: string }): TypeTag {
  const major = file.type.split('/')[0];
  if (major === 'image') return 'Image';
  if (major === 'video') return 'Video';
  if (major === 'audio') return 'Audio';
  if (file.type && file.type !== 'application/octet-stream') return 'Other';
  const ext = file.name.includes('.') ? file.name.split('.').pop()!.toLowerCase() : '';
  return BY_EXTENSION[ext] ?? 'Other';
}

/** "Image · PNG", "PDF", "Spreadsheet · XLSX": the kind, and the extension or a short subtype. */
export function typeLabel(mimeType: string, fileName = ''): { kind: string; detail: string } {
  const kind = fileKind(mimeType).label;
  const ext = /\.([a-z0-9]{1,5})$/i.exec(fileName)?.[1];
  const sub = (mimeType.split('/')[1] ?? '').replace(/^(x-|vnd\.)/, '').replace(/\+.*$/, '');
  const short = (ext ?? (/^[a-z0-9]{1,6}$/i.test(sub) ? sub : '')).toUpperCase();
  return { kind, detail: short && short !== kind.toUpperCase() ? short : '' };
}

/** Control characters are refused in file and tag names (BAD_USER_INPUT from the server). */
export const hasControlChars = (text: string) => /\p{Cc}/u.test(text);
