import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { api, Role, session } from './api';
import { AdsPage } from './pages/ads';
import { GpuPage } from './pages/gpu';
import { LeaderboardsPage } from './pages/leaderboards';
import { TicketingPage } from './pages/ticketing';
import { message } from './ui';

const PAGES = [
  { path: 'ads', title: 'Ads', Page: AdsPage },
  { path: 'leaderboards', title: 'Leaderboards', Page: LeaderboardsPage },
  { path: 'ticketing', title: 'Ticketing', Page: TicketingPage },
  { path: 'gpu', title: 'GPU cluster', Page: GpuPage },
] as const;

function currentPath(): string {
  const p = location.hash.replace(/^#\/?/, '').split('?')[0];
  return PAGES.some((x) => x.path === p) ? p : 'ads';
}

function Login({ onLogin }: { onLogin: (role: Role) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { role } = await api<{ role: Role }>('GET', '/whoami', { key });
      session.save(key);
      onLogin(role);
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="login">
      <h1>Tetrad console</h1>
      <form onSubmit={submit} class="card">
        <label for="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" autoComplete="off" required value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        <p class="hint">Kept in this tab's session storage only. The embedded profile's development key is <code>dev-admin-key</code>.</p>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </main>
  );
}

function App() {
  const [role, setRole] = useState<Role | null>(null);
  const [checking, setChecking] = useState(session.key() !== null);
  const [path, setPath] = useState(currentPath());

  useEffect(() => {
    const on = () => setPath(currentPath());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  useEffect(() => {
    if (!session.key()) return;
    api<{ role: Role }>('GET', '/whoami').then(
      (r) => (setRole(r.role), setChecking(false)),
      () => (session.clear(), setChecking(false)),
    );
  }, []);
  useEffect(() => {
    const page = PAGES.find((p) => p.path === path)!;
    document.title = `${page.title} · Tetrad console`;
    document.getElementById('main')?.focus();
  }, [path, role]);

  if (checking) return <p class="loading">Checking the key…</p>;
  if (!role) return <Login onLogin={setRole} />;
  const page = PAGES.find((p) => p.path === path)!;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Tetrad</span>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`#/${p.path}`} aria-current={p.path === path ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          <span class="role" title="the key's role">
            {role}
          </span>
          <button type="button" class="link" onClick={() => (session.clear(), setRole(null))}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{page.title}</h1>
        <page.Page role={role} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
