import type { SQSRecord } from 'aws-lambda';
import { BusEnvelope, parseEnvelope } from '#contracts/messages.ts';
import { log } from '#shared/observability.ts';
import { sqsConsumer } from '../queue/consumer.ts';
import { deliverParcelToBuyer, deliverToBuyers, refundShortfall, shipToBuyers, startBatchProduction, tellParcels } from './use-cases.ts';

/**
 * The fulfillment consumer: a batch accepted, a lot shipped or delivered, a
 * buyer's parcel named or delivered, a batch closed short; each is carried to the buyers' pre-orders. Duplicates and
 * reordering are harmless (a delivery applies its shipment first if needed).
 */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  const event = parseEnvelope(BusEnvelope, JSON.parse(record.body));
  switch (event['detail-type']) {
    case 'batch.accepted':
      return startBatchProduction(event.detail.batchId);
    case 'shipment.created':
      return shipToBuyers(event.detail.shipmentId);
    case 'shipment.delivered':
      return deliverToBuyers(event.detail.shipmentId);
    case 'shipment.parcels_added':
      return tellParcels(event.detail.shipmentId);
    case 'shipment.parcel_delivered':
      return deliverParcelToBuyer(event.detail.shipmentId, event.detail.preorderId);
    case 'batch.completed':
      return refundShortfall(event.detail.batchId);
    default:
      log().warn('fulfillment got an event it does not handle', { type: event['detail-type'] });
  }
};

export const handler = sqsConsumer(recordHandler);
