import { useState, type FormEvent } from 'react';
import { api, session } from '../api.ts';
import { Failure } from '../layout.tsx';

// Signing in: email and password (a session cookie the browser keeps, HTTP-only), or an API token
// (`trapline tokens create`), kept in this tab's session storage only. Either is checked against
// the API before it is kept.

export interface SignedIn {
  user: { name: string; email: string };
  csrfToken: string;
}

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<Error>();
  const [tokenError, setTokenError] = useState<Error>();
  const withPassword = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const { data } = await api<SignedIn>('POST', '/auth/login/', { email: email.trim(), password }, null);
      session.signedInAs(data.user, data.csrfToken);
      onSignedIn();
    } catch (failure) {
      setError(failure as Error);
    }
  };
  const withToken = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await api('GET', '/organizations/', undefined, token.trim());
      session.signIn(token.trim());
      onSignedIn();
    } catch (failure) {
      setTokenError(failure as Error);
    }
  };
  return (
    <main className="sign-in">
      <h1>Trapline</h1>
      <form onSubmit={(event) => void withPassword(event)} aria-label="Sign in with email">
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="username" value={email} onChange={(event) => setEmail(event.target.value)} required />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" value={password} onChange={(event) => setPassword(event.target.value)} required />
        <button type="submit">Sign in</button>
        <Failure error={error} />
      </form>
      <section className="token-sign-in">
        <h2>Or use an API token</h2>
        <form onSubmit={(event) => void withToken(event)} aria-label="Sign in with a token">
          <label htmlFor="token">API token</label>
          <input id="token" name="token" type="password" autoComplete="off" value={token} onChange={(event) => setToken(event.target.value)} placeholder="tpl_…" required />
          <button type="submit">Use token</button>
          <Failure error={tokenError} />
          <p className="muted">The token stays in this browser tab's session. `npm start` prints one; `trapline tokens create &lt;org&gt;` makes more.</p>
        </form>
      </section>
    </main>
  );
}
