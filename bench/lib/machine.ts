import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  logicalCpus: number;
  cpuMHz: number | null;
  totalMemGiB: number;
  kernel: string;
  node: string;
  loadAvgAtStart: number[];
}

/** What the figures ran on: /proc/cpuinfo and os.totalmem(), plus the load when the run started (the machine is shared). */
export function machineInfo(): MachineInfo {
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: os.cpus() is all there is
  }
  const field = (name: string): string | undefined => new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm').exec(cpuinfo)?.[1]?.trim();
  const processors = cpuinfo.match(/^processor\s*:/gm)?.length;
  const mhz = Number(field('cpu MHz'));
  return {
    cpuModel: field('model name') ?? os.cpus()[0]?.model ?? 'unknown',
    logicalCpus: processors ?? os.cpus().length,
    cpuMHz: Number.isFinite(mhz) ? Math.round(mhz) : null,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAvgAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
