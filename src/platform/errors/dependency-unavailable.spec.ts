import { unavailableDependency } from './dependency-unavailable';

const named = (name: string, message = 'x') => Object.assign(new Error(message), { name });
const sys = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code, syscall: 'connect' });

describe('unavailableDependency', () => {
  it('recognises the clients’ "unreachable now" errors, also when wrapped', () => {
    expect(unavailableDependency(named('MaxRetriesPerRequestError'))).toBe('redis');
    expect(unavailableDependency(named('ClusterAllFailedError'))).toBe('redis');
    expect(unavailableDependency(new Error('Connection is closed.'))).toBe('redis');
    expect(unavailableDependency(named('ReplyError', 'CLUSTERDOWN The cluster is down'))).toBe('redis');
    expect(unavailableDependency(named('ReplyError', 'LOADING Redis is loading the dataset in memory'))).toBe('redis');
    expect(unavailableDependency(named('ReplyError', 'MOVED 10099 127.0.0.1:7113'))).toBe('redis');
    expect(unavailableDependency(sys('ECONNREFUSED'))).toBe('network');
    expect(unavailableDependency(new Error('timeout exceeded when trying to connect'))).toBe('postgres');
    expect(unavailableDependency(Object.assign(new Error('the database system is starting up'), { code: '57P03', severity: 'FATAL' }))).toBe('postgres');
    expect(unavailableDependency(Object.assign(new Error('query failed'), { driverError: new Error('Connection terminated unexpectedly') }))).toBe('postgres');
    expect(unavailableDependency(Object.assign(named('KafkaJSNumberOfRetriesExceeded'), { originalError: named('KafkaJSConnectionError') }))).toBe('kafka');
  });

  it('leaves programming and data errors alone (they stay 500s)', () => {
    expect(unavailableDependency(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBeUndefined();
    expect(unavailableDependency(named('ReplyError', 'ERR Error running script: attempt to compare nil'))).toBeUndefined();
    expect(unavailableDependency(named('ReplyError', 'WRONGTYPE Operation against a key holding the wrong kind of value'))).toBeUndefined();
    expect(unavailableDependency(Object.assign(new Error('syntax error'), { code: '42601', severity: 'ERROR' }))).toBeUndefined();
    expect(unavailableDependency(Object.assign(new Error('no syscall'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(unavailableDependency('Connection is closed.')).toBeUndefined();
  });
});
