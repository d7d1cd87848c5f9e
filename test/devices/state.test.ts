// The saved-state mechanism: round trips, versions and clear errors that change nothing.
import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io.ts';
import { MemoryBackend } from '../../src/devices/char-backend.ts';
import { DebugConsole } from '../../src/devices/debugcon.ts';
import { defineState, loadAll, loadState, named, saveAll, saveState, StateError } from '../../src/state/state.ts';
import { Clock, Scheduler } from '../../src/machine/clock.ts';

class Inner { a = 0; list = [0, 0, 0]; static state = defineState('inner', 1, { a: 'u16', list: { array: 'i32', length: 3 } }); }

class Thing {
  u8 = 0; u16 = 0; u32 = 0; i32 = 0; f64 = 0; flag = false;
  bytes = new Uint8Array(4);
  inner = new Inner();
  many = [new Inner(), new Inner()];
  mode = 0;
  extra = 99;
  loaded = 0;
  constructor(readonly timer: ReturnType<Scheduler['createTimer']>) {}
  static v1 = defineState('thing', 1, {
    u8: 'u8', u16: 'u16', u32: 'u32', i32: 'i32', f64: 'f64', flag: 'bool', bytes: { bytes: 4 },
    inner: { struct: Inner.state }, many: { structs: Inner.state, length: 2 }, mode: { type: 'u8', max: 5 }, timer: 'timer',
  }, { postLoad: (t: Thing) => t.loaded++ });
  static v2 = defineState('thing', 2, { ...Object.fromEntries(Thing.v1.fields.map(f => [f.name, f.name === 'mode' ? { type: f.type, max: 5 } : f.type])), extra: { type: 'u32', since: 2 } });
}

function make() {
  const s = new Scheduler(new Clock());
  return new Thing(s.createTimer('t', () => {}));
}

function filled() {
  const t = make();
  Object.assign(t, { u8: 0xab, u16: 0xbeef, u32: 0xdeadbeef, i32: -5, f64: 1.5e300, flag: true, mode: 4, extra: 7 });
  t.bytes.set([1, 2, 3, 4]);
  t.inner.a = 600; t.inner.list = [-1, 2, -3];
  t.many[1].a = 9; t.many[1].list[2] = 123456;
  t.timer.arm(12345);
  return t;
}

describe('saved state', () => {
  it('round-trips every field type and calls postLoad', () => {
    const a = filled();
    const b = make();
    loadState(Thing.v1, b, saveState(Thing.v1, a));
    const { loaded: _1, timer: _2, ...va } = a as any;
    const { loaded: _3, timer: _4, ...vb } = b as any;
    expect({ ...vb, extra: 7 }).toEqual({ ...va });
    expect(b.extra).toBe(99);                                // not in v1
    expect([b.timer.armed, b.timer.deadline]).toEqual([true, 12345]);
    expect(b.loaded).toBe(1);
  });

  it('loads an older version, leaving newer fields alone, and refuses newer or foreign ones', () => {
    const a = filled();
    const old = saveState(Thing.v1, a);
    const b = make();
    loadState(Thing.v2, b, old);
    expect([b.u32, b.extra]).toEqual([0xdeadbeef, 99]);
    const c = make();
    loadState(Thing.v2, c, saveState(Thing.v2, a));
    expect(c.extra).toBe(7);
    expect(() => loadState(Thing.v1, make(), saveState(Thing.v2, a))).toThrow(/newer/);
    expect(() => loadState(named(Thing.v1, 'other'), make(), old)).toThrow(/is for "thing"/);
  });

  it('rejects damaged states with a StateError and leaves the object unchanged', () => {
    const good = saveState(Thing.v1, filled());
    const damage: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
      ['truncated', b => b.slice(0, b.length - 5), /truncated/],
      ['trailing', b => { const c = new Uint8Array(b.length + 1); c.set(b); return c; }, /unexpected/],
      ['bad bool', b => { const c = b.slice(); c[2 + 5 + 4 + 4 + 1 + 2 + 4 + 4 + 8] = 7; return c; }, /boolean/],
      ['out of range', b => { const c = b.slice(); c[c.length - 9] = 9; return c; }, /out of range/],
    ];
    for (const [what, f, message] of damage) {
      const t = make();
      const before = saveState(Thing.v1, t);
      expect(() => loadState(Thing.v1, t, f(good)), what).toThrow(StateError);
      expect(() => loadState(Thing.v1, t, f(good)), what).toThrow(message);
      expect(saveState(Thing.v1, t), what).toEqual(before);
      expect(t.loaded).toBe(0);
    }
  });

  it('names a field missing from the object when saving', () => {
    const desc = defineState('x', 1, { nope: 'u8' });
    expect(() => saveState(desc, {})).toThrow(/x\.nope.*missing/);
  });

  it('saves several devices together and checks the set of sections', () => {
    const io = new IoBus();
    const out = new MemoryBackend();
    const con = new DebugConsole(io, out);
    const clock = new Clock();
    clock.advance(1000);
    const blob = saveAll([clock, con]);
    const clock2 = new Clock();
    loadAll([clock2, new DebugConsole(new IoBus(), out)], blob);
    expect(clock2.now()).toBe(1000);
    expect(() => loadAll([clock2], blob)).toThrow(/unknown devices: debugcon/);
    expect(() => loadAll([clock2, con, make() as any], blob)).toThrow();
    io.write8(0xe9, 0x41);
    expect(io.read8(0xe9)).toBe(0xe9);
    expect(out.text()).toBe('A');
  });
});
