/**
 * The shipped readiness policy. Kept as text (not a file beside the code) so that it ships inside any
 * build; `panos-upgrade check --print-policy` prints it to start a policy of one's own.
 */
export const DEFAULT_POLICY_YAML = `# panos-upgrade readiness policy (the shipped default).
# checks: which readiness checks run before an upgrade; severity block stops the job before anything
# changes on the device, warn is reported only. A check left out, or with enabled: false, does not run.
name: default
checks:
  panorama_connected: { severity: block }
  ha: { severity: block, skip_config_sync: false, ignore_non_functional: false }
  ntp_sync: { severity: warn }
  no_pending_changes: { severity: block }
  licenses: { severity: warn, skip: [] }
  support_active: { severity: block }
  # Minimum content (app) version per target feature release, from the release notes.
  content_version: { severity: block, minimum_by_release: {} }
  free_disk: { severity: block, headroom_pct: 10 }
  no_running_jobs: { severity: block, ignore_types: [] }
  # List sessions that must exist, e.g. [{ source: 10.0.0.5, destination: 10.1.0.9, port: 443 }]
  critical_sessions: { severity: warn, sessions: [] }
  # List ARP entries that must exist, e.g. [{ ip: 10.0.0.1, interface: ethernet1/1 }]; empty: table not empty
  arp_entries: { severity: warn, entries: [] }
  # Tunnel names; empty: every configured IPsec tunnel
  ipsec_tunnels: { severity: warn, tunnels: [] }
  # Peer names; empty: every configured BGP peer
  bgp_peers: { severity: warn, peers: [] }
  clocks_in_sync: { severity: warn, max_drift_seconds: 5 }
  certificates:
    severity: warn
    rsa: { min_key_size: 2048, hash: sha256 }
    ecdsa: { min_key_size: 256, hash: sha256 }
  dynamic_updates: { severity: warn, window_minutes: 60 }
  jumbo_frames: { severity: warn, expected: null }
  environmentals: { severity: block, components: [] }
  dataplane_cpu: { severity: warn, max_pct: 80, minutes: 5 }
  management_cpu: { severity: warn, max_pct: 80 }
  management_memory: { severity: warn, max_pct: 90 }
  no_locks: { severity: block }
  panorama_version: { severity: block }
  # Expected reboot minutes per model (default: the job's reboot budget for the model, timeouts.reboot_seconds_by_model);
  # window_minutes: the time all of a job's reboots must fit in, e.g. { PA-7050: 45 } and 120.
  reboot_budget: { severity: block, expected_minutes_by_model: {}, window_minutes: null }
# snapshots: what may change between the snapshot before and after the upgrade. max_change_pct limits
# the change of the entry count (max_change_count allows that many entries whatever the percentage);
# keep_all / must_keep name entries that must still exist; allow_state_changes lets an entry's state change.
# severity block fails the job on a regression, warn reports it.
snapshots:
  routes: { max_change_pct: 0, must_keep: [] }
  fib: { max_change_pct: 0 }
  arp: { max_change_pct: 5, max_change_count: 5 }
  sessions: { max_change_pct: 10, allow_state_changes: true }
  interfaces: { keep_all: true, allow_state_changes: false }
  bgp_peers: { keep_all: true, allow_state_changes: false }
  ipsec_tunnels: { keep_all: true, allow_state_changes: false }
  licenses: { keep_all: true, severity: warn }
  content: { allow_state_changes: true, severity: warn }
`;
