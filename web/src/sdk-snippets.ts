// The few lines that point each SDK at a DSN, shown next to the key on the projects page.

export const SDKS = ['node', 'browser', 'python'] as const;
export type Sdk = (typeof SDKS)[number];

export const SDK_NAMES: Record<Sdk, string> = { node: 'Node.js', browser: 'Browser', python: 'Python' };

export function setupSnippet(sdk: Sdk, dsn: string): string {
  const quoted = JSON.stringify(dsn);
  switch (sdk) {
    case 'node':
      return `npm install @sentry/node\n\nimport * as Sentry from '@sentry/node';\nSentry.init({ dsn: ${quoted} });\n\nSentry.captureException(new Error('boom'));`;
    case 'browser':
      return `npm install @sentry/browser\n\nimport * as Sentry from '@sentry/browser';\nSentry.init({ dsn: ${quoted} });\n\nSentry.captureException(new Error('boom'));`;
    case 'python':
      return `pip install sentry-sdk\n\nimport sentry_sdk\nsentry_sdk.init(dsn=${quoted})\n\nsentry_sdk.capture_exception(Exception("boom"))`;
  }
}
