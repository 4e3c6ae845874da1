import { checkCommand, parseAllowList, resolveRunAs } from './command-policy';

describe('command policy', () => {
  it('parses comma-separated absolute paths and globs, and refuses relative entries', () => {
    expect(parseAllowList('')).toEqual([]);
    expect(parseAllowList(' /usr/bin/python3 , /opt/models/bin/*,')).toEqual(['/usr/bin/python3', '/opt/models/bin/*']);
    expect(() => parseAllowList('/usr/bin/python3,python3')).toThrow(/absolute/);
  });

  it('matches the executable exactly or by a glob that never crosses /', () => {
    const allowed = ['/usr/bin/python3', '/opt/models/bin/*', '/opt/v?/run'];
    expect(checkCommand('/usr/bin/python3 serve.py --port 1', allowed)).toEqual({ ok: true, argv: ['/usr/bin/python3', 'serve.py', '--port', '1'] });
    expect(checkCommand('"/opt/models/bin/train" --lr 0.1', allowed)).toMatchObject({ ok: true });
    expect(checkCommand('/opt/v1/run', allowed)).toMatchObject({ ok: true });
    for (const cmd of ['/opt/models/bin/sub/train', '/opt/models/bin/../../../bin/sh -c id', '/usr/bin/python3.11 x', 'python3 x', '/bin/sh -c "id"', '/opt/v12/run']) {
      expect(checkCommand(cmd, allowed)).toMatchObject({ ok: false, reason: expect.stringMatching(/^command refused: executable/) });
    }
  });

  it('refuses shell syntax instead of interpreting it, and everything when the list is empty', () => {
    expect(checkCommand('/usr/bin/python3 x; rm -rf /', ['/usr/bin/python3'])).toMatchObject({ ok: false, reason: expect.stringContaining('shell syntax') });
    expect(checkCommand('/usr/bin/python3 $HOME', ['/usr/bin/python3'])).toMatchObject({ ok: false, reason: expect.stringContaining('shell syntax') });
    expect(checkCommand('/usr/bin/python3 x', [])).toMatchObject({ ok: false, reason: expect.stringContaining('GPU_AGENT_ALLOWED_COMMANDS is empty') });
  });

  it('never resolves to root, and requires a user when the agent is root and runs commands', () => {
    expect(() => resolveRunAs('', 0, true)).toThrow(/GPU_AGENT_RUN_AS_USER/);
    expect(resolveRunAs('', 0, false)).toBeUndefined();
    expect(resolveRunAs('', 1000, true)).toBeUndefined();
    expect(() => resolveRunAs('root', 0, true)).toThrow(/root/);
    expect(() => resolveRunAs('0', 0, true)).toThrow(/root/);
    expect(() => resolveRunAs('1000:0', 0, true)).toThrow(/root/);
    expect(resolveRunAs('1000:1001', 0, true)).toEqual({ uid: 1000, gid: 1001 });
    expect(resolveRunAs('nobody', 0, true)).toEqual({ uid: expect.any(Number), gid: expect.any(Number) });
    expect(() => resolveRunAs('no-such-user-xyz', 0, true)).toThrow(/not a known user/);
  });
});
