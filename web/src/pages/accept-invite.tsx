import { useEffect, useState, type FormEvent } from 'react';
import { api, get, session } from '../api.ts';
import { Failure } from '../layout.tsx';
import { navigate } from '../router.tsx';
import type { SignedIn } from './sign-in.tsx';

// `/accept/{memberId}/{token}/`, the invitation link: set a password (or give your existing one),
// and you are signed in as the new member. The link works once.

interface Invitation {
  orgSlug: string;
  email: string;
  orgRole: string;
  existingUser: boolean;
}

export function AcceptInvitePage({ memberId, token }: { memberId: string; token: string }) {
  const path = `/accept-invite/${memberId}/${token}/`;
  const [invitation, setInvitation] = useState<Invitation>();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<Error>();
  useEffect(() => {
    get<Invitation>(path).then(({ data }) => setInvitation(data), setError);
  }, [path]);
  const accept = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const { data } = await api<SignedIn>('POST', path, { password, ...(name.trim() ? { name: name.trim() } : {}) }, null);
      session.signOut();
      session.signedInAs(data.user, data.csrfToken);
      navigate('/', { replace: true });
    } catch (failure) {
      setError(failure as Error);
    }
  };
  return (
    <main className="sign-in">
      <h1>Trapline</h1>
      {invitation ? (
        <form onSubmit={(event) => void accept(event)} aria-label="Accept invitation">
          <p>
            Join <strong>{invitation.orgSlug}</strong> as {invitation.orgRole} ({invitation.email}).
          </p>
          {invitation.existingUser ? null : (
            <>
              <label htmlFor="name">Your name</label>
              <input id="name" name="name" autoComplete="name" value={name} onChange={(event) => setName(event.target.value)} />
            </>
          )}
          <label htmlFor="new-password">{invitation.existingUser ? 'Your password' : 'Choose a password (8 characters or more)'}</label>
          <input id="new-password" name="password" type="password" autoComplete={invitation.existingUser ? 'current-password' : 'new-password'} value={password} onChange={(event) => setPassword(event.target.value)} required />
          <button type="submit">Accept invitation</button>
        </form>
      ) : null}
      <Failure error={error} />
    </main>
  );
}
