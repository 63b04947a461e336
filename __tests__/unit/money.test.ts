// toPaisa and formatRupees: exact by construction, checked against a reference in bigint on random
// amounts, and on the floats that lose a paisa when multiplied by 100 and truncated.
import fc from 'fast-check';
import { formatRupees, isKhaltiError, toPaisa } from '../../lib';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** The reference: paisa as a plain decimal rupee string, in bigint. */
const decimal = (paisa: bigint) => `${paisa / 100n}.${String(paisa % 100n).padStart(2, '0')}`;
const groupWestern = (digits: string) => digits.replace(/\B(?=(\d{3})+$)/g, ',');
const groupLakh = (digits: string) =>
  digits.length <= 3 ? digits : `${digits.slice(0, -3).replace(/\B(?=(\d{2})+$)/g, ',')},${digits.slice(-3)}`;

function refused(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isKhaltiError(error) && error.code === 'invalid_option') return error.message;
    throw error;
  }
  throw new Error('expected toPaisa to refuse');
}

describe('toPaisa', () => {
  it.each([
    ['19.99', 1999],
    [19.99, 1999],
    [0.29, 29],
    [1.15, 115],
    [4.35, 435],
    [8.2, 820],
    ['1,200.50', 120_050],
    ['12,34,567.5', 123_456_750],
    ['1,234,567', 123_456_700],
    [' 10 ', 1000],
    ['.5', 50],
    ['7.', 700],
    [0, 0],
  ] as Array<[string | number, number]>)('%p rupees is %p paisa', (rupees, paisa) => {
    expect(toPaisa(rupees)).toBe(paisa);
  });

  it('is exact where truncating rupees × 100 loses a paisa', () => {
    expect(Math.trunc(19.99 * 100)).toBe(1998);
    expect(toPaisa(19.99)).toBe(1999);
  });

  it.each([
    ['1.234', /two decimals/],
    [1.005, /two decimals/],
    [1e-7, /two decimals/],
    ['-1', /negative/],
    [-0.5, /negative/],
    [Number.NaN, /finite/],
    [Number.POSITIVE_INFINITY, /finite/],
    ['abc', /not a rupee amount/],
    ['', /not a rupee amount/],
    ['.', /not a rupee amount/],
    ['1e3', /not a rupee amount/],
    ['12,34', /separators/],
    ['1,2345', /separators/],
    ['90071992547409.92', /MAX_SAFE_INTEGER/],
    [1e21, /MAX_SAFE_INTEGER/],
  ])('refuses %p', (rupees, why) => {
    expect(refused(() => toPaisa(rupees as string | number))).toMatch(why);
  });

  it('refuses what is neither a string nor a number, naming the fix', () => {
    expect(refused(() => toPaisa(null as never))).toMatch(/give a string or a number/);
  });

  it('matches the bigint reference on random amounts, written plainly, with Western or lakh grouping', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), fc.constantFrom('plain', 'western', 'lakh', 'one-decimal'), (paisa, style) => {
        const [whole, fraction] = decimal(paisa).split('.') as [string, string];
        const grouped = style === 'western' ? groupWestern(whole) : style === 'lakh' ? groupLakh(whole) : whole;
        const text = style === 'one-decimal' && fraction.endsWith('0') ? `${whole}.${fraction[0]}` : `${grouped}.${fraction}`;
        expect(toPaisa(text)).toBe(Number(paisa));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a number as the decimal it prints as, for every amount with at most two decimals up to a crore', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000 }), (paisa) => {
        const asNumber = Number(decimal(BigInt(paisa)));
        expect(toPaisa(asNumber)).toBe(paisa);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('formatRupees', () => {
  it.each([
    [120_050, 'Rs 1,200.50'],
    [123_456_700, 'Rs 12,34,567.00'],
    [5, 'Rs 0.05'],
    [0, 'Rs 0.00'],
    [-150, '-Rs 1.50'],
    [99_999, 'Rs 999.99'],
  ])('%p paisa is %p', (paisa, text) => {
    expect(formatRupees(paisa)).toBe(text);
  });

  it('groups the Western way when asked', () => {
    expect(formatRupees(123_456_700, { grouping: 'western' })).toBe('Rs 1,234,567.00');
  });

  it('round-trips through toPaisa, both groupings, against the bigint reference', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), fc.constantFrom('lakh' as const, 'western' as const), (paisa, grouping) => {
        const text = formatRupees(Number(paisa), { grouping });
        const [whole, fraction] = decimal(paisa).split('.') as [string, string];
        expect(text).toBe(`Rs ${grouping === 'lakh' ? groupLakh(whole) : groupWestern(whole)}.${fraction}`);
        expect(toPaisa(text.slice('Rs '.length))).toBe(Number(paisa));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a paisa amount that is not a safe integer', () => {
    expect(() => formatRupees(1.5)).toThrow(/safe integer/);
  });
});
