/**
 * A one-node Slurm cluster on this machine for the tests: munged, slurmctld and slurmd from
 * Debian's slurm-wlm (installed with apt-get when missing and we are root), everything in a
 * temporary folder (config, munge key and socket, state, spool, logs), stopped by `stop()`.
 * Commands see it through SLURM_CONF in `env`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface SlurmCluster {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly node: string;
  /** Runs a Slurm command against this cluster. */
  exec(cmd: string, args: readonly string[]): string;
  stop(): Promise<void>;
}

const has = (cmd: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

export const isRoot = (): boolean => process.getuid?.() === 0;
export const slurmInstalled = (): boolean => ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue'].every(has);

/** Why the Slurm tests cannot run here, or null when they can (installing Slurm first if needed). */
export function slurmUnavailable(): string | null {
  if (slurmInstalled()) return null;
  if (!isRoot()) return 'Slurm (slurm-wlm, munge) is not installed and installing it needs root';
  if (!has('apt-get')) return 'Slurm is not installed and this machine has no apt-get to install it';
  return null;
}

/** apt-get install slurm-wlm munge (root only), once. */
export function installSlurm(): void {
  if (slurmInstalled()) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'slurm-wlm', 'munge'], { stdio: 'inherit', env });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => boolean, timeoutMs: number, logs: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return;
    await sleep(250);
  }
  throw new Error(`Slurm test cluster: ${what} did not happen within ${timeoutMs / 1000} s.\n${logs()}`);
}

export async function startSlurm(): Promise<SlurmCluster> {
  installSlurm();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freezelab-slurm-'));
  fs.chmodSync(dir, 0o700);
  const p = (...parts: string[]) => path.join(dir, ...parts);
  for (const d of ['munge', 'state', 'spool', 'log']) fs.mkdirSync(p(d), { mode: 0o700 });
  const procs: ChildProcess[] = [];
  const logs = () =>
    ['munged.log', 'slurmctld.log', 'slurmd.log']
      .map((f) => {
        const file = p('log', f);
        return fs.existsSync(file)
          ? `--- ${f}\n${fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')}`
          : '';
      })
      .join('\n');
  const stop = async () => {
    for (const child of procs.reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    // munge: a fresh key, its own socket.
    const key = p('munge', 'munge.key');
    fs.writeFileSync(key, randomBytes(1024), { mode: 0o400 });
    const socket = p('munge', 'munge.socket');
    const munged = spawn(
      'munged',
      [
        '--foreground',
        '--force',
        `--key-file=${key}`,
        `--socket=${socket}`,
        `--pid-file=${p('munge', 'munged.pid')}`,
        `--log-file=${p('log', 'munged.log')}`,
        `--seed-file=${p('munge', 'munged.seed')}`,
      ],
      { stdio: 'ignore' },
    );
    procs.push(munged);
    await waitFor('munged listening', () => fs.existsSync(socket), 15_000, logs);

    const conf = p('slurm.conf');
    const nodeLine = execFileSync('slurmd', ['-C'], { encoding: 'utf8' }).split('\n')[0]!.trim();
    const node = /^NodeName=(\S+)/.exec(nodeLine)?.[1] ?? os.hostname();
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    fs.writeFileSync(
      conf,
      [
        'ClusterName=freezelab-test',
        `SlurmctldHost=${node}(127.0.0.1)`,
        'SlurmUser=root',
        'SlurmdUser=root',
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${socket}`,
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${dPort}`,
        `StateSaveLocation=${p('state')}`,
        `SlurmdSpoolDir=${p('spool')}`,
        `SlurmctldPidFile=${p('slurmctld.pid')}`,
        `SlurmdPidFile=${p('slurmd.pid')}`,
        `SlurmctldLogFile=${p('log', 'slurmctld.log')}`,
        `SlurmdLogFile=${p('log', 'slurmd.log')}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_Core',
        'SchedulerType=sched/backfill',
        'AccountingStorageType=accounting_storage/none',
        'JobCompType=jobcomp/none',
        'JobAcctGatherType=jobacct_gather/none',
        'MpiDefault=none',
        'ReturnToService=2',
        // Finished jobs stay visible to scontrol for an hour (there is no accounting database).
        'MinJobAge=3600',
        'SlurmdTimeout=60',
        'InactiveLimit=0',
        'KillWait=5',
        `${nodeLine.replace(/\s+UpTime=\S+/, '')} NodeAddr=127.0.0.1 State=UNKNOWN`,
        `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
        '',
      ].join('\n'),
    );
    const env = { ...process.env, SLURM_CONF: conf };
    const exec = (cmd: string, args: readonly string[]) =>
      execFileSync(cmd, [...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(spawn('slurmctld', ['-D', '-c', '-i', '-f', conf], { stdio: 'ignore', env }));
    await waitFor(
      'slurmctld answering',
      () => {
        try {
          exec('scontrol', ['ping']);
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      logs,
    );
    procs.push(spawn('slurmd', ['-D', '-f', conf, '-N', node], { stdio: 'ignore', env }));
    await waitFor(
      'the node idle',
      () => {
        try {
          return /idle/.test(exec('sinfo', ['-h', '-N', '-o', '%T']));
        } catch {
          return false;
        }
      },
      60_000,
      logs,
    );
    return { dir, env, node, exec, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
