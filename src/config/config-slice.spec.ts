import { Test } from '@nestjs/testing';
import { AppConfig, loadConfig } from './app-config';
import { configSlice, provideConfigSlice } from './config-slice';

class ExampleConfig extends configSlice('NAMESPACE', 'KAFKA_PARTITIONS', 'hasRole', 'isFull') {}

describe(configSlice.name, () => {
  const config = loadConfig({ NAMESPACE: 'slice-test', KAFKA_PARTITIONS: '3', APP_ROLES: 'worker' });

  it('copies exactly the named knobs, parsed and defaulted by loadConfig, with methods bound to the config', () => {
    const sut = new ExampleConfig(config);
    expect(Object.keys(sut).sort()).toEqual(['KAFKA_PARTITIONS', 'NAMESPACE', 'hasRole', 'isFull']);
    expect(sut.NAMESPACE).toBe('slice-test');
    expect(sut.KAFKA_PARTITIONS).toBe(3);
    expect(sut.isFull).toBe(false);
    expect(sut.hasRole('worker')).toBe(true);
    expect(sut.hasRole('api')).toBe(false);
    expect((sut as unknown as Record<string, unknown>).PORT).toBeUndefined();
  });

  it('is its own injection token, built from the AppConfig provider', async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [{ provide: AppConfig, useValue: config }, provideConfigSlice(ExampleConfig)],
    }).compile();
    const sut = moduleRef.get(ExampleConfig);
    expect(sut).toBeInstanceOf(ExampleConfig);
    expect(sut.NAMESPACE).toBe('slice-test');
  });
});
