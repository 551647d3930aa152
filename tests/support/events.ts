import { afterAll } from 'vitest';
import type { BusEvent } from '../../lib/local/emulator/event-bus.ts';
import { BusEnvelope, parseEnvelope } from '../../functions/contracts/messages.ts';

/**
 * After a file's tests: every event its producers put on the (emulated) bus
 * fits its type's schema, as the consumers parse it. A producer that drifts
 * from the schema fails here, naming the type and the field, even when no
 * test of the file looks at that event.
 */
export const expectPublishedEventsFitTheirSchemas = (emulator: { readonly events: ReadonlyArray<BusEvent> }): void => {
  afterAll(() => {
    for (const e of emulator.events) parseEnvelope(BusEnvelope, { 'detail-type': e.detailType, source: e.source, detail: e.detail });
  });
};
