import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { dateTime } from '../format.ts';
import { Failure, Layout, ShownOnce } from '../layout.tsx';
import { useAction, useApi } from '../use-api.ts';

// An organization's members and pending invitations (Sentry's roles): invite by email, change a
// role, remove. What the signed-in role may not do, the API refuses and the page shows its detail.

const ROLES = ['member', 'admin', 'manager', 'owner'];

interface Member {
  id: string;
  email: string;
  name: string;
  orgRole: string;
  pending: boolean;
  expired: boolean;
  dateCreated: string;
}

export function MembersPage({ org }: { org: string }) {
  const members = useApi<Member[]>(`/organizations/${org}/members/`);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('member');
  const [link, setLink] = useState<string>();
  const { error, act } = useAction(members.reload);
  const invite = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      const { data } = await api<{ inviteLink: string }>('POST', `/organizations/${org}/members/`, { email: email.trim(), orgRole: role });
      setLink(data.inviteLink);
      setEmail('');
    });
  };
  return (
    <Layout org={org}>
      <h2>Members</h2>
      <form className="toolbar" onSubmit={invite} aria-label="Invite">
        <input type="email" aria-label="Email to invite" placeholder="someone@example.com" value={email} onChange={(event) => setEmail(event.target.value)} required />
        <select aria-label="Role to invite with" value={role} onChange={(event) => setRole(event.target.value)}>
          {ROLES.map((name) => (
            <option key={name}>{name}</option>
          ))}
        </select>
        <button type="submit">Invite</button>
      </form>
      {link ? (
        <ShownOnce what="Send this single-use link to the invitee" value={link} />
      ) : null}
      <Failure error={error ?? members.error} />
      <table className="members">
        <thead>
          <tr>
            <th>Member</th>
            <th>Email</th>
            <th>Role</th>
            <th>Since</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(members.answer?.data ?? []).map((member) => (
            <tr key={member.id} data-email={member.email}>
              <td>
                {member.name}
                {member.pending ? <span className="badge">{member.expired ? 'invitation expired' : 'invited'}</span> : null}
              </td>
              <td>{member.email}</td>
              <td>
                <select aria-label={`Role of ${member.email}`} value={member.orgRole} onChange={(event) => void act(() => api('PUT', `/organizations/${org}/members/${member.id}/`, { orgRole: event.target.value }))}>
                  {ROLES.map((name) => (
                    <option key={name}>{name}</option>
                  ))}
                </select>
              </td>
              <td>{dateTime(member.dateCreated)}</td>
              <td>
                <button type="button" className="small danger" onClick={() => void act(() => api('DELETE', `/organizations/${org}/members/${member.id}/`))}>
                  {member.pending ? 'Cancel invitation' : 'Remove'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}
