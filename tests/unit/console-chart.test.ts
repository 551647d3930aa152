import { describe, expect, it } from 'vitest';
import { chartColumns, chartTop } from '../../console/src/lib/chart-data.ts';

const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 12, minute)).toISOString();
const t = (minute: number) => Date.UTC(2026, 11, 1, 12, minute) / 1000;

const history = [
  {
    sku: 'M',
    points: [
      { at: at(0), ordered: 0 },
      { at: at(1), ordered: 10, forecastLow: 40, forecastHigh: 60 },
      { at: at(2), ordered: 25, forecastLow: 50, forecastHigh: 80 },
    ],
  },
  {
    sku: 'L',
    points: [
      { at: at(1), ordered: 3, forecastLow: 5, forecastHigh: 9 },
      { at: at(2), ordered: 4, forecastLow: 6, forecastHigh: 10 },
    ],
  },
];

describe('console demand chart data', () => {
  it('One variant: its minutes in order, its ordered units and its forecast band (gaps where it had none)', () => {
    expect(chartColumns(history, 'M')).toEqual({ x: [t(0), t(1), t(2)], ordered: [0, 10, 25], low: [null, 40, 50], high: [null, 60, 80] });
  });

  it('All variants under a cap: the summed band never reaches above the cap, since the campaign cannot sell past it', () => {
    expect(chartColumns(history, '*', undefined, 70)).toEqual({ x: [t(0), t(1), t(2)], ordered: [0, 13, 29], low: [null, 45, 56], high: [null, 69, 70] });
  });

  it('All variants: added up minute by minute; the band only where every variant has one', () => {
    expect(chartColumns(history, '*')).toEqual({ x: [t(0), t(1), t(2)], ordered: [0, 13, 29], low: [null, 45, 56], high: [null, 69, 90] });
  });

  it('No history, or an unknown sku, is an empty chart', () => {
    expect(chartColumns([], '*')).toEqual({ x: [], ordered: [], low: [], high: [] });
    expect(chartColumns(history, 'XL').x).toEqual([]);
  });

  it('The y axis reaches above the highest of ordered, forecast and cap, and is never flat', () => {
    const c = chartColumns(history, '*');
    expect(chartTop(c, undefined)).toBe(99);
    expect(chartTop(c, 500)).toBe(550);
    expect(chartTop(chartColumns([], '*'), undefined)).toBe(10);
  });
});

describe('console demand chart start', () => {
  it('A campaign opened before its first point starts its line at zero at the opening', () => {
    const one = [{ sku: 'M', points: [{ at: at(5), ordered: 6, forecastLow: 6, forecastHigh: 9 }] }];
    expect(chartColumns(one, '*', at(2))).toEqual({ x: [t(2), t(5)], ordered: [0, 6], low: [null, 6], high: [null, 9] });
    expect(chartColumns(one, 'M', at(7)).x).toEqual([t(5)]);
    expect(chartColumns([], '*', at(2)).x).toEqual([]);
  });
});
