import { useState, type FormEvent } from 'react';
import { api, session } from '../api.ts';
import { Failure } from '../layout.tsx';

// An API token (`trapline tokens create`, or the one `npm start` prints), kept in this tab's
// session storage only. It is checked against the API before it is kept.

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<Error>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await api('GET', '/organizations/', undefined, token.trim());
      session.signIn(token.trim());
      onSignedIn();
    } catch (failure) {
      setError(failure as Error);
    }
  };
  return (
    <main className="sign-in">
      <h1>Trapline</h1>
      <form onSubmit={(event) => void submit(event)}>
        <label htmlFor="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="off" value={token} onChange={(event) => setToken(event.target.value)} placeholder="tpl_…" required />
        <button type="submit">Sign in</button>
        <Failure error={error} />
        <p className="muted">The token stays in this browser tab's session. `npm start` prints one; `trapline tokens create &lt;org&gt;` makes more.</p>
      </form>
    </main>
  );
}
