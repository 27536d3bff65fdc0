/**
 * Real device answers copied from docs/panos-xml-api.md (sources cited there), with the doc's
 * parenthetical annotations removed so they are XML again. Plus one firewall record for round trips.
 */
import type { FirewallRecord } from '../../panos/index.ts';

/** §1, 97 bytes: wrong credentials or API key. */
export const AUTH_403 = `<response status = 'error' code = '403'><result><msg>Invalid Credential</msg></result></response>`;

/** §1 keygen success (AWS-GWLB-VMSeries #20 single-quote form). */
export const KEYGEN_OK = `<response status = 'success'>
  <result>
    <key>LUFRPT1OWkpUYmxNME5hU25teE9KbkhU==</key>
  </result>
</response>`;

/** §14 unknown element, CDATA line. */
export const ERROR_17 = `<response status="error" code="17">
  <msg>
    <line><![CDATA[ show -> foo  is unexpected]]></line>
  </msg>
</response>`;

/** §14 as pan-os-upgrade-assurance's fixture formats it: whitespace around the CDATA. */
export const ERROR_17_SPACED = `<response status="error" code="17">
            <msg>
                <line>
                    <![CDATA[ show -> redistribution  is unexpected]]>
                </line>
            </msg>
        </response>`;

/** §10 finished download (PUA test_get_jobs). */
export const JOB_FIN_DOWNLOAD = `<response status="success">
  <result>
    <job>
      <tenq>2023/08/07 04:00:40</tenq>
      <tdeq>04:00:40</tdeq>
      <id>4</id>
      <user>admin</user>
      <type>Downld</type>
      <status>FIN</status>
      <queued>NO</queued>
      <stoppable>no</stoppable>
      <result>OK</result>
      <tfin>2023/08/07 04:00:45</tfin>
      <description/>
      <positionInQ>0</positionInQ>
      <progress>2023/08/07 04:00:45</progress>
      <details>
        <line>Successfully downloaded</line>
        <line>Preloading into software manager</line>
        <line>Successfully loaded into software manager</line>
      </details>
      <warnings/>
    </job>
  </result>
</response>`;

/** §10 running download (2018 capture): ACT, stoppable, PEND, Still Active, 13 %. */
export const JOB_RUNNING_DOWNLOAD = `<response status="success">
  <result>
    <job>
      <tenq>2018/03/01 10:15:02</tenq>
      <tdeq>10:15:02</tdeq>
      <id>3448</id>
      <user>admin</user>
      <type>Downld</type>
      <status>ACT</status>
      <queued>NO</queued>
      <stoppable>yes</stoppable>
      <result>PEND</result>
      <tfin>Still Active</tfin>
      <description/>
      <positionInQ>0</positionInQ>
      <progress>13</progress>
      <details/>
      <warnings/>
    </job>
  </result>
</response>`;

/** §9 failed install (paloversion #2, cdot65 #21). */
export const JOB_FAIL_INSTALL = `<response status="success">
  <result>
    <job>
      <tenq>2022/04/11 09:20:01</tenq>
      <tdeq>09:20:01</tdeq>
      <id>3</id>
      <user>admin</user>
      <type>SWInstall</type>
      <status>FIN</status>
      <queued>NO</queued>
      <stoppable>no</stoppable>
      <result>FAIL</result>
      <tfin>09:22:14</tfin>
      <description/>
      <positionInQ>0</positionInQ>
      <progress>09:22:14</progress>
      <details>
        <line>Failed to install 10.2.0 with the following errors.</line>
        <line>SW version is 10.2.0</line>
        <line>The software manager is currently in use. Please try again later.</line>
        <line>Failed to install   version  10.2.0  type  panos</line>
      </details>
      <warnings/>
    </job>
  </result>
</response>`;

/** §10 unknown job id (pan-python test). */
export const JOB_NOT_FOUND = `<response status="error"><msg><line>job 4294967295 not found</line></msg></response>`;

/** §7 software list (PUA test_get_available_image_data / get_available_image_data docstring). */
export const SOFTWARE_LIST = `<response status="success">
  <result>
    <sw-updates last-updated-at="2023/05/31 11:47:34">
      <msg/>
      <versions>
        <entry>
          <version>11.0.1</version>
          <filename>PanOS_vm-11.0.1</filename>
          <size>492</size>
          <size-kb>504796</size-kb>
          <released-on>2023/03/29 15:05:25</released-on>
          <release-notes><![CDATA[ https://www.paloaltonetworks.com/documentation/11-0/pan-os/pan-os-release-notes ]]></release-notes>
          <downloaded>no</downloaded>
          <current>no</current>
          <latest>yes</latest>
          <uploaded>no</uploaded>
        </entry>
        <entry>
          <version>11.0.0</version>
          <filename>PanOS_vm-11.0.0</filename>
          <size>1037</size>
          <size-kb>1062271</size-kb>
          <released-on>2022/11/17 08:45:28</released-on>
          <release-notes><![CDATA[ https://www.paloaltonetworks.com/documentation/11-0/pan-os/pan-os-release-notes ]]></release-notes>
          <downloaded>no</downloaded>
          <current>no</current>
          <latest>no</latest>
          <uploaded>no</uploaded>
        </entry>
      </versions>
    </sw-updates>
  </result>
</response>`;

/** SOFTWARE_LIST with 11.0.0 running and 11.0.1 showing cdot65's tolerated `downloading` value. */
export const SOFTWARE_LIST_RUNNING_11_0_0 = SOFTWARE_LIST.replace(
  '<downloaded>no</downloaded>',
  '<downloaded>downloading</downloaded>',
).replace(
  '<downloaded>no</downloaded>\n          <current>no</current>\n          <latest>no</latest>',
  '<downloaded>yes</downloaded>\n          <current>yes</current>\n          <latest>no</latest>',
);

/** §12 one managed device (cdot65 485de7a capture). */
export const DEVICES_ONE = `<response status="success">
  <result>
    <devices>
      <entry name="007054000543212">
        <serial>007054000543212</serial>
        <connected>yes</connected>
        <unsupported-version>no</unsupported-version>
        <wildfire-rt>no</wildfire-rt>
        <deactivated>no</deactivated>
        <hostname>katy-fw1</hostname>
        <ip-address>192.168.255.41</ip-address>
        <ipv6-address>unknown</ipv6-address>
        <mac-addr/>
        <uptime>2 days, 22:15:28</uptime>
        <family>vm</family>
        <model>PA-VM</model>
        <sw-version>10.1.4</sw-version>
        <app-version>8799-8509</app-version>
        <av-version>0</av-version>
        <device-dictionary-version>114-473</device-dictionary-version>
        <wildfire-version>0</wildfire-version>
        <threat-version>8799-8509</threat-version>
        <url-db>paloaltonetworks</url-db>
        <url-filtering-version>20240209.20242</url-filtering-version>
        <logdb-version>10.1.2</logdb-version>
        <vpnclient-package-version/>
        <global-protect-client-package-version>0.0.0</global-protect-client-package-version>
        <prev-app-version>8635-7675</prev-app-version> <prev-av-version>0</prev-av-version>
        <prev-threat-version>0</prev-threat-version> <prev-wildfire-version>0</prev-wildfire-version>
        <prev-device-dictionary-version>113-471</prev-device-dictionary-version>
        <domain/> <slot-count>1</slot-count> <type/> <tag/>
        <plugin_versions><entry name="vm_series" version="2.1.5"><pkginfo>vm_series-2.1.5</pkginfo></entry></plugin_versions>
        <ha>
          <state>active</state>
          <peer><serial>007054000543217</serial></peer>
        </ha>
        <ha-cluster><state>cluster-unknown</state></ha-cluster>
        <vpn-disable-mode>no</vpn-disable-mode>
        <operational-mode>normal</operational-mode>
        <certificate-status/> <certificate-subject-name>007054000543212</certificate-subject-name>
        <certificate-expiry>2024/05/06 15:06:50</certificate-expiry>
        <connected-at>2024/02/08 03:08:53</connected-at>
        <custom-certificate-usage>no</custom-certificate-usage>
        <multi-vsys>no</multi-vsys>
        <vsys>
          <entry name="vsys1">
            <display-name>vsys1</display-name>
            <shared-policy-status/>
            <shared-policy-md5sum>f82283898afbf91e11d6f3071db0b241</shared-policy-md5sum>
            <shared-policy-version>35</shared-policy-version>
          </entry>
        </vsys>
        <last-masterkey-push-status>Unknown</last-masterkey-push-status>
        <last-masterkey-push-timestamp/>
        <express-mode>no</express-mode>
        <device-cert-present>Valid</device-cert-present>
        <device-cert-expiry-date>2024/04/12 12:39:54 CDT</device-cert-expiry-date>
      </entry>
    </devices>
  </result>
</response>`;

/** §5d ARP (PUA test_get_arp_table), element order dp, timeout, total, entries, max. */
export const ARP_ONE = `<response status="success">
  <result>
    <dp>dp0</dp>
    <timeout>1800</timeout>
    <total>1</total>
    <max>32000</max>
    <entries>
      <entry>
        <interface>ethernet1/1</interface>
        <ip>10.10.11.1</ip>
        <mac>aa:bb:cc:dd:ee:ff</mac>
        <port>ethernet1/1</port>
        <status> c </status>
        <ttl>1777</ttl>
      </entry>
    </entries>
  </result>
</response>`;

/** §6 df -h (PUA test_get_disk_utilization). */
export const DISK_SPACE = `<response status="success">
  <result><![CDATA[Filesystem      Size  Used Avail Use% Mounted on
/dev/root       6.9G  5.1G  1.5G  78% /
none            7.9G   76K  7.9G   1% /dev
/dev/sda5        16G  1.2G   14G   8% /opt/pancfg
/dev/sda6       7.9G  1.6G  5.9G  22% /opt/panrepo
tmpfs            12G  8.4G  3.0G  74% /dev/shm
cgroup_root     7.9G     0  7.9G   0% /cgroup
/dev/sda8        21G   63M   20G   1% /opt/panlogs
tmpfs            12M     0   12M   0% /opt/pancfg/mgmt/lcaas/ssl/private
]]></result>
</response>`;

/** §5a one static route (PUA test_get_routes). */
export const ROUTES_ONE = `<response status="success">
  <result>
    <flags>flags: A:active, ?:loose, C:connect, H:host, S:static, ~:internal, R:rip, O:ospf, B:bgp,
           Oi:ospf intra-area, Oo:ospf inter-area, O1:ospf ext-type-1, O2:ospf ext-type-2, E:ecmp, M:multicast</flags>
    <entry>
      <virtual-router>default</virtual-router>
      <destination>0.0.0.0/0</destination>
      <nexthop>10.10.11.1</nexthop>
      <metric>10</metric>
      <flags>A S E </flags>
      <age/>
      <interface>ethernet1/1</interface>
      <route-table>unicast</route-table>
    </entry>
  </result>
</response>`;

/** §3 Panorama HA (cdot65 485de7a, Panorama 11.0.1 pair): no <group>. */
export const PANORAMA_HA = `<response status="success"><result>
  <enabled>yes</enabled>
  <local-info>
    <version>1</version><state>primary-active</state><state-duration>218028</state-duration>
    <mgmt-ip>192.168.255.191/24</mgmt-ip><mgmt-ipv6/><preemptive>yes</preemptive>
    <promotion-hold>2000</promotion-hold><hello-interval>8000</hello-interval>
    <heartbeat-interval>2000</heartbeat-interval><preempt-hold>1</preempt-hold>
    <monitor-fail-holdup>0</monitor-fail-holdup><addon-master-holdup>7000</addon-master-holdup>
    <encrypt-imported>no</encrypt-imported><encrypt-enable>no</encrypt-enable>
    <link-mon-intv>3000</link-mon-intv><priority>primary</priority><build-rel>11.0.1</build-rel>
    <url-version>Not Installed</url-version><app-version>8804-8537</app-version><iot-version>114-473</iot-version>
    <av-version>4719-5237</av-version><cloudconnector>Match</cloudconnector><VMS>Match</VMS>
    <build-compat>Match</build-compat><url-compat>Match</url-compat><app-compat>Match</app-compat>
    <iot-compat>Match</iot-compat><av-compat>Match</av-compat>
  </local-info>
  <peer-info>
    <conn-ha1><conn-status>up</conn-status><conn-primary>yes</conn-primary><conn-desc>heartbeat status</conn-desc></conn-ha1><conn-status>up</conn-status><version>1</version>
    <state>secondary-passive</state><state-duration>132146</state-duration>
    <last-error-reason>User requested</last-error-reason><last-error-state>secondary-suspended</last-error-state>
    <preemptive>yes</preemptive><mgmt-ip>192.168.255.192</mgmt-ip><priority>secondary</priority>
    <build-rel>11.0.1</build-rel>
  </peer-info>
  <running-sync>synchronized</running-sync>
  <running-sync-enabled>yes</running-sync-enabled>
</result></response>`;

/** §11 restart, older non-success form. */
export const RESTART_ERROR_FORM = `<response status="error"><msg><line>Command succeeded with no output</line></msg></response>`;

/** §11 chassis-ready. */
export const CHASSIS_READY_YES = `<response status="success"><result><![CDATA[yes]]></result></response>`;

/** §8 download enqueued (DOC91). */
export const DOWNLOAD_ENQUEUED = `<response status="success" code="19">
  <result>
    <msg><line>Download job enqueued with jobid 3448</line></msg>
    <job>3448</job>
  </result>
</response>`;

export const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);

/** A VM firewall on 10.1.3 with 10.2.0 downloaded. */
export function firewall(overrides: Partial<FirewallRecord> = {}): FirewallRecord {
  return {
    serial: '007954000123451',
    hostname: 'fw-a',
    model: 'PA-VM',
    family: 'vm',
    mgmtIp: '10.0.0.10',
    netmask: '255.255.255.0',
    defaultGateway: '10.0.0.1',
    macAddress: 'ba:db:ee:fb:ad:10',
    swVersion: '10.1.3',
    bootedAt: T0,
    multiVsys: false,
    images: [
      { version: '10.1.3', sizeMb: 400, releasedOn: '2022/01/01 00:00:00' },
      { version: '10.2.0', sizeMb: 900, releasedOn: '2022/06/01 00:00:00' },
      { version: '10.1.10-h2', sizeMb: 450, releasedOn: '2023/06/01 00:00:00' },
      { version: '10.2.3', sizeMb: 512, releasedOn: '2022/09/01 00:00:00' },
    ],
    downloaded: ['10.2.0'],
    content: {
      installed: '8799-8509',
      available: [
        { version: '8799-8509', sizeMb: 50, releasedOn: '2024/01/01 00:00:00' },
        { version: '8800-8510', sizeMb: 51, releasedOn: '2024/01/08 00:00:00' },
      ],
      downloaded: ['8800-8510'],
    },
    avVersion: '4719-5237',
    metrics: { tcpSessions: 100, udpSessions: 20, routes: 5, arpEntries: 3 },
    disk: { panrepoTotalMb: 8090, panrepoUsedMb: 1638 },
    jobs: [],
    nextJobId: 1,
    ...overrides,
  };
}
