import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readConfig } from '@trapline/runtime';
import { localValues, NGINX_TEMPLATE, renderTemplate } from './nginx.ts';

describe('the front door\'s configuration', () => {
  it('fills every ${TRAPLINE_…} variable of the template from the local deployment, leaving nginx\'s own $variables alone', () => {
    const config = readConfig({ GATEWAY_PORT: '30500', INGEST_URL: 'http://127.0.0.1:30501', API_URL: 'http://127.0.0.1:30502', MAX_REQUEST_BYTES: '1000' });
    const rendered = renderTemplate(readFileSync(NGINX_TEMPLATE, 'utf8'), localValues(config, '/tmp/door'));
    expect(rendered).not.toMatch(/\$\{TRAPLINE_[A-Z0-9_]+\}/);
    expect(rendered).toMatch(/listen 127\.0\.0\.1:30500;/);
    expect(rendered).toMatch(/server 127\.0\.0\.1:30501;/);
    expect(rendered).toMatch(/server 127\.0\.0\.1:30502;/);
    expect(rendered).toMatch(/client_max_body_size 1000;/);
    expect(rendered).toMatch(/client_body_temp_path \/tmp\/door\/temp\/body;/);
    expect(rendered).toContain('$proxy_add_x_forwarded_for');
  });

  it('refuses a template variable without a value', () => {
    expect(() => renderTemplate('listen ${TRAPLINE_NOWHERE};', {})).toThrow(/TRAPLINE_NOWHERE/);
  });
});
