import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('defaults to the embedded profile with every module and the api,worker,scheduler roles', () => {
    const sut = loadConfig({});
    expect(sut.APP_PROFILE).toBe('embedded');
    expect(sut.APP_MODULES).toEqual(['leaderboard', 'ticketing', 'ad-analytics', 'gpu-scheduler']);
    expect(sut.APP_ROLES).toEqual(['api', 'worker', 'scheduler']);
    expect(sut.PORT).toBe(3000);
  });

  it('parses lists and numbers', () => {
    const sut = loadConfig({ APP_MODULES: 'leaderboard, ticketing', PORT: '8080', KAFKA_BROKERS: 'a:1,b:2' });
    expect(sut.APP_MODULES).toEqual(['leaderboard', 'ticketing']);
    expect(sut.PORT).toBe(8080);
    expect(sut.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
  });

  it('parses API keys into roles and never echoes them in errors', () => {
    const sut = loadConfig({ APP_PROFILE: 'full', API_KEYS: 'admin:abcdefgh1,client:zyxwvuts2' });
    expect(sut.apiKeys.get('abcdefgh1')).toBe('admin');
    expect(sut.apiKeys.get('zyxwvuts2')).toBe('client');
    try {
      loadConfig({ API_KEYS: 'root:supersecret' });
      throw new Error('should have failed');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems[0]).toContain('<hidden>');
      expect((e as ConfigError).problems[0]).not.toContain('supersecret');
    }
  });

  it('rejects unknown modules and roles by name', () => {
    expect(() => loadConfig({ APP_MODULES: 'leaderboard,chat' })).toThrow(/APP_MODULES/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT="70000"/);
  });
});
