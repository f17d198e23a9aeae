import type { FileRow } from '../../db/database.js';
import { builder } from '../../graphql/builder.js';
import { FileRef } from '../files/files.graphql.js';
import { previewKind, previewPath } from './previews.service.js';

builder.objectFields(FileRef, (t) => ({
  thumbnailUrl: t.loadable({
    type: 'String',
    nullable: true,
    description:
      'Path of a WebP thumbnail, `/files/<id>/thumbnail?size=256` (`size=1024` for the large ' +
      'one), with the download route’s credentials; not a download. Null for types that get ' +
      'none (JPEG, PNG, WebP, GIF, AVIF, TIFF, HEIC, PDF and video do) and for files known to ' +
      'give none; the route answers 404 when a first attempt finds it cannot be made.',
    load: (files: FileRow[], ctx) => ctx.services.previews.thumbnailUrls(files),
    resolve: (file) => file,
  }),
  previewUrl: t.string({
    nullable: true,
    description:
      'Path of the inline view, `/files/<id>/preview` (GET/HEAD, Range supported, not a ' +
      'download), for types a browser shows safely: raster images, audio, video, PDF (in a ' +
      'sandbox) and text (served as plain text); null for every other type.',
    resolve: (file) => (previewKind(file.mime_type) ? previewPath(file.id) : null),
  }),
}));
