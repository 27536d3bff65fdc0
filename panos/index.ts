/**
 * Public surface of panos/: the PAN-OS data model, errors, version ordering, and the pure XML
 * knowledge shared by the simulator (commands, responses) and the upgrade client (parsers).
 *
 * @remarks No module here does I/O; times are passed in as ms since the epoch.
 */
export * from './model.ts';
export * from './errors.ts';
export * from './version.ts';
export * from './time.ts';
export * from './xml.ts';
export * from './commands.ts';
export * from './responses.ts';
export * from './parsers.ts';
export * from './upgrade-path.ts';
export * from './client.ts';
export * from './reboot-wait.ts';
export * from './tls-trust.ts';
