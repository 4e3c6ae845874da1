import { parseReplication } from './infrastructure-metrics';

describe('parseReplication', () => {
  it('gives each replica its distance behind the primary in bytes', () => {
    const info = [
      '# Replication',
      'role:master',
      'connected_slaves:2',
      'slave0:ip=127.0.0.1,port=7004,state=online,offset=1000,lag=0',
      'slave1:ip=127.0.0.1,port=7005,state=online,offset=400,lag=3',
      'master_repl_offset:1200',
      '',
    ].join('\r\n');
    expect(parseReplication(info)).toEqual([
      { replica: '127.0.0.1:7004', lagBytes: 200 },
      { replica: '127.0.0.1:7005', lagBytes: 800 },
    ]);
  });

  it('reports nothing for a replica or a primary without replicas', () => {
    expect(parseReplication('role:slave\r\nmaster_repl_offset:5\r\n')).toEqual([]);
    expect(parseReplication('role:master\r\nconnected_slaves:0\r\nmaster_repl_offset:5\r\n')).toEqual([]);
  });
});
