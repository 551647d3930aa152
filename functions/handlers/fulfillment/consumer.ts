import type { SQSRecord } from 'aws-lambda';
import { BusEnvelope } from '#contracts/messages.ts';
import { log } from '#shared/observability.ts';
import { sqsConsumer } from '../queue/consumer.ts';
import { deliverParcelToBuyer, deliverToBuyers, refundShortfall, shipToBuyers, startBatchProduction, tellParcels } from './use-cases.ts';

/**
 * The fulfillment consumer: a batch accepted, a lot shipped or delivered, a
 * buyer's parcel named or delivered, a batch closed short; each is carried to the buyers' pre-orders. Duplicates and
 * reordering are harmless (a delivery applies its shipment first if needed).
 */
const recordHandler = async (record: SQSRecord): Promise<void> => {
  const event = BusEnvelope.parse(JSON.parse(record.body));
  const { batchId, shipmentId, preorderId } = event.detail;
  switch (event['detail-type']) {
    case 'batch.accepted':
      if (batchId) await startBatchProduction(batchId);
      return;
    case 'shipment.created':
      if (shipmentId) await shipToBuyers(shipmentId);
      return;
    case 'shipment.delivered':
      if (shipmentId) await deliverToBuyers(shipmentId);
      return;
    case 'shipment.parcels_added':
      if (shipmentId) await tellParcels(shipmentId);
      return;
    case 'shipment.parcel_delivered':
      if (shipmentId && preorderId) await deliverParcelToBuyer(shipmentId, preorderId);
      return;
    case 'batch.completed':
      if (batchId) await refundShortfall(batchId);
      return;
    default:
      log().warn('fulfillment got an event it does not handle', { type: event['detail-type'] });
  }
};

export const handler = sqsConsumer(recordHandler);
