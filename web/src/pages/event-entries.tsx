import { dateTime, toIso } from '../format.ts';
import { exceptionChain, frameLocation, sourceLines, type ExceptionValue, type Frame } from '../exception.ts';
import type { Breadcrumb, FullEvent } from '../types.ts';

// The parts of one event: exception chain with stack frames, message, breadcrumbs, request,
// user and contexts, each as Sentry's entries carry them.

function FrameView({ frame, open }: { frame: Frame; open: boolean }) {
  const lines = sourceLines(frame);
  return (
    <li className={`frame ${frame.in_app ? 'in-app' : 'system'}`}>
      <details open={open && lines.length > 0}>
        <summary>
          <code className="function">{frame.function ?? '?'}</code> <span className="muted">in</span> <code>{frameLocation(frame)}</code>
          {frame.in_app && <span className="badge in-app-badge">in app</span>}
        </summary>
        {lines.length > 0 && (
          <ol className="context">
            {lines.map((line, index) => (
              <li key={index} className={line.current ? 'current' : undefined}>
                <span className="lineno">{line.lineno ?? ''}</span>
                <code>{line.code}</code>
              </li>
            ))}
          </ol>
        )}
      </details>
    </li>
  );
}

function ExceptionView({ values }: { values: ExceptionValue[] }) {
  return (
    <section className="panel exceptions">
      <h3>Exception</h3>
      {exceptionChain(values).map(({ exception, frames }, index) => {
        // The first in-app frame (most recent) opens with its source.
        const firstInApp = frames.findIndex((frame) => frame.in_app);
        return (
          <div className="exception" key={index}>
            <h4>
              <span className="exception-type">{exception.type ?? 'Error'}</span>
              {exception.value && <span className="exception-value">: {exception.value}</span>}
            </h4>
            {exception.mechanism && <p className="muted">mechanism: {exception.mechanism.type}{exception.mechanism.handled === false ? ' (unhandled)' : ''}</p>}
            <ol className="frames">
              {frames.map((frame, frameIndex) => (
                <FrameView key={frameIndex} frame={frame} open={frameIndex === (firstInApp === -1 ? 0 : firstInApp)} />
              ))}
            </ol>
          </div>
        );
      })}
    </section>
  );
}

const display = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

export function KeyValues({ title, values, className }: { title: string; values: Record<string, unknown> | null | undefined; className?: string }) {
  const entries = Object.entries(values ?? {}).filter(([, value]) => value !== null && value !== undefined && value !== '');
  if (entries.length === 0) return null;
  return (
    <section className={`panel ${className ?? ''}`}>
      <h3>{title}</h3>
      <table className="key-values">
        <tbody>
          {entries.map(([key, value]) => (
            <tr key={key}>
              <th>{key}</th>
              <td>{display(value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Breadcrumbs({ values }: { values: Breadcrumb[] }) {
  return (
    <section className="panel breadcrumbs">
      <h3>Breadcrumbs</h3>
      <table>
        <tbody>
          {values.map((crumb, index) => (
            <tr key={index}>
              <td className="muted">{dateTime(toIso(crumb.timestamp))}</td>
              <td>{crumb.category ?? crumb.type ?? 'default'}</td>
              <td>{crumb.level ?? 'info'}</td>
              <td>{crumb.message ?? (crumb.data ? JSON.stringify(crumb.data) : '')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** A request's headers come as an object or as [name, value] pairs. */
const headerObject = (headers: unknown) => (Array.isArray(headers) ? Object.fromEntries(headers as [string, string][]) : ((headers ?? {}) as Record<string, unknown>));

export function EventEntries({ event }: { event: FullEvent }) {
  return (
    <>
      {event.entries.map((entry, index) => {
        switch (entry.type) {
          case 'exception':
            return <ExceptionView key={index} values={(entry.data as { values: ExceptionValue[] }).values ?? []} />;
          case 'message':
            return (
              <section key={index} className="panel message">
                <h3>Message</h3>
                <pre>{(entry.data as { formatted: string }).formatted}</pre>
              </section>
            );
          case 'breadcrumbs':
            return <Breadcrumbs key={index} values={(entry.data as { values: Breadcrumb[] }).values ?? []} />;
          case 'request': {
            const { headers, ...request } = entry.data as Record<string, unknown>;
            return (
              <div key={index}>
                <KeyValues title="Request" values={request} className="request" />
                <KeyValues title="Request headers" values={headerObject(headers)} />
              </div>
            );
          }
          default:
            return null;
        }
      })}
      <KeyValues title="User" values={event.user} className="user" />
      {Object.entries(event.contexts).map(([name, context]) => (
        <KeyValues key={name} title={`Context: ${name}`} values={context} className="context-panel" />
      ))}
    </>
  );
}
