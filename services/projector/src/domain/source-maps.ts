import type { NormalizedEvent } from '@trapline/schemas';
// Not the package's index: that loads the source-map store and with it @trapline/runtime, whose
// librdkafka add-on does not load in the rebuild's parse workers, which use this too.
import { hasMinifiedFrames } from '@trapline/symbolication/symbolicate';

/** Worth looking up source maps for: minified JavaScript frames, with a debug id or a release to find their maps by. */
export const mayHaveSourceMaps = (event: NormalizedEvent): boolean =>
  (event.debug_meta?.images.some((image) => image.type === 'sourcemap') || event.release !== undefined) && hasMinifiedFrames(event) && /javascript|node/.test(event.platform);
