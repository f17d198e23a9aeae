import type { Migration } from 'kysely';
import * as initial from './2026-11-25T0900_initial.js';
import * as downloadHours from './2026-11-25T1000_download_hours.js';
import * as search from './2026-11-25T1100_search.js';
import * as rateLimits from './2026-11-25T1130_rate_limits.js';
import * as tagLinksActive from './2026-11-25T1200_tag_links_active.js';
import * as pgFileSearch from './2026-11-25T1300_pg_file_search.js';
import * as searchPostings from './2026-11-30T1000_search_postings.js';
import * as instanceLeases from './2026-12-01T0900_instance_leases.js';
import * as rateLimitWindows from './2026-12-02T1000_rate_limit_windows.js';
import * as searchNameChanges from './2026-12-03T0200_search_name_changes.js';
import * as downloadRollups from './2026-12-03T0210_download_rollups.js';
import * as uploadCounts from './2026-12-03T0220_upload_counts.js';
import * as nameSort from './2026-12-03T0230_name_sort.js';
import * as uploadSessions from './2026-12-03T0240_upload_sessions.js';
import * as shareLinks from './2026-12-04T0100_share_links.js';
import * as previews from './2026-12-04T0200_previews.js';
import * as auditEvents from './2026-12-04T0300a_audit_events.js';
import * as trashQuotas from './2026-12-04T0300b_trash_quotas.js';
import * as sessionDetails from './2026-12-04T0400_1_session_details.js';
import * as totp from './2026-12-04T0400_2_totp.js';
import * as passkeys from './2026-12-04T0400_3_passkeys.js';
import * as oidc from './2026-12-04T0800_oidc.js';
import * as auditFamily from './2026-12-05T0100d_audit_family.js';
import * as downloadDaysCovering from './2026-12-05T0930s_download_days_covering.js';
import * as statementTriggers from './2026-12-06T1000b_statement_triggers.js';
import * as downloadTagHours from './2026-12-06T1100s_download_tag_hours.js';
import * as triggerChangeChecks from './2026-12-07T0900b_trigger_change_checks.js';
import * as downloadsCovering from './2026-12-08T0900_downloads_covering.js';
import * as trashKeepsDownloads from './2026-12-09T0900_trash_keeps_downloads.js';
import * as downloadDaysOneIndex from './2026-12-09T1000_download_days_one_index.js';
import * as downloadTagHoursHot from './2026-12-09T1100_download_tag_hours_hot.js';
import * as tagLinkMoves from './2026-12-10T0900_tag_link_moves.js';
import * as downloadTriggersFastPath from './2026-12-11T0900_download_triggers_fast_path.js';
import * as uploadSessionsByUser from './2026-12-12T0900_upload_sessions_by_user.js';
import * as foldWalksFiles from './2026-12-13T0900_fold_walks_files.js';
import * as downloadCrossRollups from './2026-12-14T0900_download_cross_rollups.js';
import * as downloadsUserFile from './2026-12-14T0910_downloads_user_file.js';
import * as shareLinkViews from './2026-12-15T0900_share_link_views.js';

// Static imports rather than a folder scan: FileMigrationProvider cannot load .ts under vitest,
// and a static list makes the order explicit. Add each new migration here, in time order.
export const migrations: Record<string, Migration> = {
  '2026-11-25T0900_initial': initial,
  '2026-11-25T1000_download_hours': downloadHours,
  '2026-11-25T1100_search': search,
  '2026-11-25T1130_rate_limits': rateLimits,
  '2026-11-25T1200_tag_links_active': tagLinksActive,
  '2026-11-25T1300_pg_file_search': pgFileSearch,
  '2026-11-30T1000_search_postings': searchPostings,
  '2026-12-01T0900_instance_leases': instanceLeases,
  '2026-12-02T1000_rate_limit_windows': rateLimitWindows,
  '2026-12-03T0200_search_name_changes': searchNameChanges,
  '2026-12-03T0210_download_rollups': downloadRollups,
  '2026-12-03T0220_upload_counts': uploadCounts,
  '2026-12-03T0230_name_sort': nameSort,
  '2026-12-03T0240_upload_sessions': uploadSessions,
  '2026-12-04T0100_share_links': shareLinks,
  '2026-12-04T0200_previews': previews,
  '2026-12-04T0300a_audit_events': auditEvents,
  '2026-12-04T0300b_trash_quotas': trashQuotas,
  '2026-12-04T0400_1_session_details': sessionDetails,
  '2026-12-04T0400_2_totp': totp,
  '2026-12-04T0400_3_passkeys': passkeys,
  '2026-12-04T0800_oidc': oidc,
  '2026-12-05T0100d_audit_family': auditFamily,
  '2026-12-05T0930s_download_days_covering': downloadDaysCovering,
  '2026-12-06T1000b_statement_triggers': statementTriggers,
  '2026-12-06T1100s_download_tag_hours': downloadTagHours,
  '2026-12-07T0900b_trigger_change_checks': triggerChangeChecks,
  '2026-12-08T0900_downloads_covering': downloadsCovering,
  '2026-12-09T0900_trash_keeps_downloads': trashKeepsDownloads,
  '2026-12-09T1000_download_days_one_index': downloadDaysOneIndex,
  '2026-12-09T1100_download_tag_hours_hot': downloadTagHoursHot,
  '2026-12-10T0900_tag_link_moves': tagLinkMoves,
  '2026-12-11T0900_download_triggers_fast_path': downloadTriggersFastPath,
  '2026-12-12T0900_upload_sessions_by_user': uploadSessionsByUser,
  '2026-12-13T0900_fold_walks_files': foldWalksFiles,
  '2026-12-14T0900_download_cross_rollups': downloadCrossRollups,
  '2026-12-14T0910_downloads_user_file': downloadsUserFile,
  '2026-12-15T0900_share_link_views': shareLinkViews,
};
