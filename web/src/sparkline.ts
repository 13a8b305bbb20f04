// An issue's event volume as an SVG polyline: one point per bucket of the API's `stats` series,
// scaled to the box with the busiest bucket at the top and zero on the bottom line.

export function sparklinePoints(counts: number[], width: number, height: number): string {
  if (counts.length === 0) return '';
  const max = Math.max(...counts, 1);
  const step = counts.length > 1 ? width / (counts.length - 1) : 0;
  const round = (value: number) => Math.round(value * 10) / 10;
  return counts.map((count, index) => `${round(index * step)},${round(height - (count / max) * height)}`).join(' ');
}
