import { roleSatisfies } from './roles.decorator';

describe('roleSatisfies', () => {
  it('nests admin over service over client', () => {
    expect(roleSatisfies('admin', 'client')).toBe(true);
    expect(roleSatisfies('admin', 'service')).toBe(true);
    expect(roleSatisfies('service', 'client')).toBe(true);
    expect(roleSatisfies('service', 'admin')).toBe(false);
    expect(roleSatisfies('client', 'service')).toBe(false);
    expect(roleSatisfies('client', 'client')).toBe(true);
  });
});
