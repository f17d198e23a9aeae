import type { ResultOf } from '$lib/graphql/graphql';
import type { TrashQuery } from './documents';

export type TrashRow = ResultOf<typeof TrashQuery>['trash']['edges'][number]['node'];
