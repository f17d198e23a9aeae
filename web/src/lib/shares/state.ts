/** What a share link's state badge needs of it. */
export interface LinkStateFields {
  state: 'WORKING' | 'STOPPED';
  revoked: boolean;
  expiresAt: string | null;
  maxDownloads: number | null;
  downloadCount: number;
  files: readonly unknown[];
  createdBy: unknown;
}

/**
 * The badge of a link: the server's `state` decides whether it works (only it knows of a banned
 * creator, or of files all HIDDEN that an admin still sees listed); the reason shown is the first
 * one the link's own fields tell, else a plain "Stopped".
 */
export function linkBadge(link: LinkStateFields): { text: string; working: boolean } {
  if (link.state === 'WORKING') return { text: 'Working', working: true };
  if (link.revoked) return { text: 'Revoked', working: false };
  if (link.expiresAt && new Date(link.expiresAt).getTime() <= Date.now())
    return { text: 'Expired', working: false };
  if (link.maxDownloads !== null && link.downloadCount >= link.maxDownloads)
    return { text: 'Used up', working: false };
  if (link.files.length === 0) return { text: 'No files left', working: false };
  if (link.createdBy === null) return { text: 'Creator gone', working: false };
  return { text: 'Stopped', working: false };
}
