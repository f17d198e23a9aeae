import type { ResultOf } from '$lib/graphql/graphql';
import type { TrashFileFields } from './documents';

export type TrashRow = ResultOf<typeof TrashFileFields>;
