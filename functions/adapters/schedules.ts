import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { scheduling } from '#shared/config.ts';

const client = new SchedulerClient({});

export type Transition = 'open' | 'close';

const scheduleName = (transition: Transition, campaignId: string) => `${transition}-${campaignId}`;

/** `at()` takes whole seconds; round up so the schedule never fires before the moment. */
const atExpression = (iso: string): string => {
  const ms = Math.ceil(Date.parse(iso) / 1000) * 1000;
  return `at(${new Date(ms).toISOString().slice(0, 19)})`;
};

/**
 * A one-time schedule that drops `{kind, campaignId}` on the campaign-clock queue
 * at `at`, and deletes itself afterwards. Creating it twice is fine.
 */
export const scheduleTransition = async (transition: Transition, campaignId: string, at: string): Promise<void> => {
  const config = scheduling();
  try {
    await client.send(
      new CreateScheduleCommand({
        Name: scheduleName(transition, campaignId),
        GroupName: config.group,
        ScheduleExpression: atExpression(at),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: config.clockQueueArn,
          RoleArn: config.roleArn,
          Input: JSON.stringify({ kind: transition, campaignId }),
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
        },
      }),
    );
  } catch (err) {
    if (!(err instanceof ConflictException)) throw err;
  }
};

/** Removes a campaign's pending schedules; missing ones are already gone. */
export const unscheduleCampaign = async (campaignId: string): Promise<void> => {
  const config = scheduling();
  await Promise.all(
    (['open', 'close'] as const).map(async (transition) => {
      try {
        await client.send(new DeleteScheduleCommand({ Name: scheduleName(transition, campaignId), GroupName: config.group }));
      } catch (err) {
        if (!(err instanceof ResourceNotFoundException)) throw err;
      }
    }),
  );
};

/**
 * Moves a campaign's pending transition to `at`: the old schedule is deleted and
 * a new one made (a schedule's time cannot be changed in place by create). A
 * crash between the two leaves the clock's one-minute sweep to act at `at`.
 */
export const rescheduleTransition = async (transition: Transition, campaignId: string, at: string): Promise<void> => {
  const config = scheduling();
  try {
    await client.send(new DeleteScheduleCommand({ Name: scheduleName(transition, campaignId), GroupName: config.group }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  await scheduleTransition(transition, campaignId, at);
};
