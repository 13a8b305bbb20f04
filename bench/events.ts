// The benchmarks' events: what a Node SDK sends for an error with a 12-frame stack trace, padded
// to a size, spread over `groups` distinct issues.

export function realisticEvent(n: number, bytes: number, groups = 20) {
  const frames = Array.from({ length: 12 }, (_, i) => ({ function: `handler${i}`, filename: `/srv/app/src/module${i}.js`, lineno: 10 + i, colno: 5, in_app: i > 3, context_line: '    const result = await service.call(request, options);' }));
  const event = {
    event_id: n.toString(16).padStart(32, '0'),
    level: 'error',
    platform: 'node',
    release: 'bench@1.0.0',
    environment: 'bench',
    tags: { region: `r${n % 5}`, browser: 'Chrome' },
    user: { id: `u${n % 100}` },
    exception: { values: [{ type: `TypeError${n % groups}`, value: `Cannot read properties of undefined (reading 'id') #${n % groups}`, stacktrace: { frames } }] },
    extra: { padding: '' },
  };
  const size = JSON.stringify(event).length;
  event.extra.padding = 'x'.repeat(Math.max(0, bytes - size));
  return event;
}
