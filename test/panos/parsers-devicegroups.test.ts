import test from 'ava';
import { PanosApiError } from '../../panos/errors.ts';
import { isUnexpectedCommandError, parseDeviceGroups } from '../../panos/parsers.ts';

// Panorama's `show devicegroups` answer, in the layout pan-os-python's refresh_devices reads
// (devicegroups/entry[@name]/devices/entry with serial and the `show devices` fields).
const DEVICEGROUPS = `<response status="success"><result><devicegroups>
  <entry name="branches">
    <shared-policy-md5sum>2c7c2d1d8e2c8dc1b5b3fd1b1e9a2a91</shared-policy-md5sum>
    <devices>
      <entry name="007054000543212">
        <serial>007054000543212</serial>
        <connected>yes</connected>
        <unsupported-version>no</unsupported-version>
        <wildfire-rt>no</wildfire-rt>
        <deactivated>no</deactivated>
        <hostname>katy-fw1</hostname>
        <ip-address>192.168.255.41</ip-address>
        <sw-version>10.1.4</sw-version>
        <app-version>8799-8509</app-version>
        <model>PA-VM</model>
        <family>vm</family>
        <shared-policy-status>In Sync</shared-policy-status>
        <template-status>In Sync</template-status>
        <vsys><entry name="vsys1"><display-name>vsys1</display-name><shared-policy-status>In Sync</shared-policy-status></entry></vsys>
      </entry>
      <entry name="007054000543217">
        <serial>007054000543217</serial>
        <connected>no</connected>
        <hostname>katy-fw2</hostname>
      </entry>
    </devices>
  </entry>
  <entry name="datacenter">
    <devices>
      <entry name="013201000123">
        <connected>yes</connected>
        <hostname>dc-fw1</hostname>
      </entry>
    </devices>
  </entry>
  <entry name="empty-group">
    <devices/>
  </entry>
  <entry name="no-devices-element"/>
</devicegroups></result></response>`;

test('parseDeviceGroups: when Panorama lists groups with members then each serial maps to its group', (t) => {
  const groups = parseDeviceGroups(DEVICEGROUPS);
  t.deepEqual([...groups].sort(), [
    ['007054000543212', 'branches'],
    ['007054000543217', 'branches'],
    ['013201000123', 'datacenter'],
  ]);
});

test('parseDeviceGroups: when a group has no members or there are no groups then nothing is mapped', (t) => {
  t.is(parseDeviceGroups('<response status="success"><result><devicegroups/></result></response>').size, 0);
  t.is(parseDeviceGroups('<response status="success"><result><devicegroups><entry name="g"><devices/></entry></devicegroups></result></response>').size, 0);
});

test('parseDeviceGroups: when an older release refuses the command then the code-17 error is thrown, not an empty map', (t) => {
  const refused = '<response status="error" code="17"><msg><line><![CDATA[ show -> devicegroups  is unexpected]]></line></msg></response>';
  const err = t.throws(() => parseDeviceGroups(refused), { instanceOf: PanosApiError });
  t.true(isUnexpectedCommandError(err));
});
