// Guest exceptions unwind the host stack to the dispatch loop by throwing this one object;
// the vector and error code travel in the CPU's fields, so raising allocates nothing.

export const enum Vector {
  DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
  TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19,
}

export class GuestFault {
  readonly name = 'GuestFault';
}
export const FAULT = new GuestFault();

/** Exceptions whose frame carries an error code. */
export function hasErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
}

/** Classes used by the double-fault rules (SDM vol. 3, table 6-5). */
export function faultClass(vector: number): 0 | 1 | 2 {
  if (vector === 0 || (vector >= 10 && vector <= 13)) return 1; // contributory
  if (vector === 14) return 2; // page fault
  return 0; // benign
}
