/**
 * Which process owns a run, and whether that process is still alive, for processes that share one
 * database (the app, `serve`, CLI trainers, possibly on other machines over a shared folder).
 */
import fs from 'node:fs';
import os from 'node:os';

/** A process as recorded on a run: pid, when it started (ms since the epoch) and the host it runs on. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly host: string;
  /** Null where the platform cannot tell (then a reused pid is caught by the heartbeat only). */
  readonly startedAt: number | null;
}

/** A run's owner as stored; `host` is null for rows written before owners were recorded (schema < 4). */
export interface RunOwner {
  readonly pid: number | null;
  readonly host: string | null;
  readonly startedAt: number | null;
  readonly heartbeatAt: number | null;
}

/** A heartbeat older than this means the owner is gone when its pid cannot be checked (other host). */
export const HEARTBEAT_STALE_MS = 60_000;
/** How often a worker refreshes its heartbeat. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
/**
 * Start times read at different moments can differ by a tick of rounding (and /proc's btime can
 * move by a second); a reused pid starts much later than this after its predecessor.
 */
const START_TOLERANCE_MS = 2_000;

/** Linux: when `pid` started, from /proc (boot time + start ticks; USER_HZ is 100 on every Linux ABI). */
function linuxStartTime(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields are counted after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]); // field 22, starttime
    const btime = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1];
    if (!Number.isFinite(ticks) || btime === undefined) return null;
    return Number(btime) * 1000 + ticks * 10;
  } catch {
    return null;
  }
}

/** When process `pid` (on this host) started, or null when it cannot be read (ended, or not Linux). */
export function processStartTime(pid: number): number | null {
  if (process.platform === 'linux') return linuxStartTime(pid);
  return null;
}

let self: ProcessIdentity | undefined;

/** This process's identity. */
export function thisProcess(): ProcessIdentity {
  self ??= {
    pid: process.pid,
    host: os.hostname(),
    startedAt: processStartTime(process.pid) ?? Math.round(Date.now() - process.uptime() * 1000),
  };
  return self;
}

/** The identity of another process on this host (a worker the runner started, a pid given by a caller). */
export function localProcess(pid: number): ProcessIdentity {
  return pid === process.pid ? thisProcess() : { pid, host: os.hostname(), startedAt: processStartTime(pid) };
}

/** Whether a process exists. EPERM means it exists but belongs to someone else. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LivenessProbe {
  readonly now?: number;
  readonly staleMs?: number;
  readonly host?: string;
  readonly pidAlive?: (pid: number) => boolean;
  readonly startTimeOf?: (pid: number) => number | null;
}

/**
 * Whether a run's owner is still alive. Same host: its pid exists and (where start times can be
 * read) started when recorded, so a reused pid is not taken for the owner. Other host: its pid means
 * nothing here, so only a fresh heartbeat counts. Rows without a host come from before owners were
 * recorded: no build that could still be running them can open this schema, so they are gone.
 */
export function ownerAlive(owner: RunOwner, probe: LivenessProbe = {}): boolean {
  const now = probe.now ?? Date.now();
  const staleMs = probe.staleMs ?? HEARTBEAT_STALE_MS;
  const fresh = owner.heartbeatAt !== null && now - owner.heartbeatAt <= staleMs;
  if (owner.pid === null || owner.host === null) return false;
  if (owner.host !== (probe.host ?? os.hostname())) return fresh;
  if (!(probe.pidAlive ?? pidAlive)(owner.pid)) return false;
  const started = (probe.startTimeOf ?? processStartTime)(owner.pid);
  if (owner.startedAt !== null && started !== null) return Math.abs(started - owner.startedAt) <= START_TOLERANCE_MS;
  // The start time cannot be compared here: a live pid with a heartbeat that stopped is a reused pid.
  return owner.heartbeatAt === null || fresh;
}

/** "pid 123 on lab-pc-2, since 2026-11-30 01:57:00" for messages. */
export function describeOwner(owner: RunOwner): string {
  const since = owner.startedAt ?? owner.heartbeatAt;
  const when = since === null ? '' : `, since ${new Date(since).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
  return `pid ${owner.pid ?? '?'} on ${owner.host ?? 'an unknown host'}${when}`;
}
