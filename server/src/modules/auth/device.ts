import Bowser from 'bowser';

/**
 * A person-readable name for the device behind a User-Agent header, e.g. "Firefox 128 on
 * Linux", or null when the header names nothing known (scripts, curl, an empty header).
 */
export function describeDevice(userAgent: string | null): string | null {
  if (!userAgent) return null;
  let parsed: Bowser.Parser.ParsedResult;
  try {
    parsed = Bowser.parse(userAgent);
  } catch {
    return null;
  }
  const browser = parsed.browser.name
    ? [parsed.browser.name, parsed.browser.version?.split('.')[0]].filter(Boolean).join(' ')
    : null;
  const os = parsed.os.name
    ? [parsed.os.name, parsed.os.versionName].filter(Boolean).join(' ')
    : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os;
}
