// Small statistics for the bench: medians and percentiles.

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (value, digits = 1) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);
const mb = (bytes) => round(bytes / 1024 / 1024, 0);

module.exports = { median, percentile, round, mb };
