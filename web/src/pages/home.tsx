import { useEffect, useState } from 'react';
import { get } from '../api.ts';
import { Failure } from '../layout.tsx';
import { navigate } from '../router.tsx';
import type { Project } from '../types.ts';

/** `/`: the issues of the token's first project. */
export function Home() {
  const [error, setError] = useState<Error>();
  useEffect(() => {
    get<{ slug: string }[]>('/organizations/')
      .then(async ({ data: [org] }) => {
        if (!org) throw new Error('This token sees no organization.');
        const { data: projects } = await get<Project[]>(`/organizations/${org.slug}/projects/`);
        navigate(projects[0] ? `/organizations/${org.slug}/projects/${projects[0].slug}/issues/` : `/organizations/${org.slug}/projects/`, { replace: true });
      })
      .catch(setError);
  }, []);
  return <main>{error ? <Failure error={error} /> : <p className="muted">Loading…</p>}</main>;
}
