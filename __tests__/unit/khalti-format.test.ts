// The sandbox writes times and mobiles the way Khalti does, from one place.
import { maskMobile, nepalTime } from '../../lib/sandbox/khalti-format';

describe('Khalti formats in the sandbox', () => {
  const instant = Date.UTC(2026, 11, 3, 20, 30, 5, 7); // 20:30:05.007 UTC is 02:15:05.007 next day in Nepal

  it('writes Nepal time (UTC+05:45) with milliseconds, crossing midnight', () => {
    expect(nepalTime(instant)).toBe('2026-12-04T02:15:05.007+05:45');
  });

  it('writes microseconds the way transaction records carry them', () => {
    expect(nepalTime(instant, 'us')).toBe('2026-12-04T02:15:05.007000+05:45');
  });

  it('masks a mobile to its first two digits and its last', () => {
    expect(maskMobile('9812345670')).toBe('98XXXXXXX0');
  });
});
