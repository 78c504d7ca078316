/**
 * Named places where a crash test can kill the process (SIGKILL, no cleanup), to prove a
 * run resumes from its last checkpoint and a side effect happens once. Off unless the
 * process was started with DEALIX_FAULT_POINT naming one of them.
 */
export const FAULT_POINTS = {
  /** The side effect is recorded (committed) and the call has not been made. */
  before_side_effect: 'before_side_effect',
  /** The call returned; its result and the step's checkpoint are not yet committed. */
  after_side_effect: 'after_side_effect',
  /** The run has committed its waiting state for a signal. */
  while_waiting: 'while_waiting',
  /** An unwind has compensated one step (its checkpoint committed) and not yet the others. */
  after_compensation: 'after_compensation',
} as const;
export type FaultPoint = keyof typeof FAULT_POINTS;

export type FaultInjector = (point: FaultPoint) => void;

export const noFaults: FaultInjector = () => undefined;

/** Kills this process at `point` (once), for crash tests. */
export function killAt(point: FaultPoint | undefined): FaultInjector {
  if (!point) return noFaults;
  return (reached) => {
    if (reached === point) process.kill(process.pid, 'SIGKILL');
  };
}
