package io.eurekars.spring.push;

import java.io.IOException;

import com.netflix.appinfo.InstanceInfo;
import com.netflix.discovery.shared.Applications;
import org.junit.jupiter.api.Test;

import static io.eurekars.spring.push.Fixtures.i;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StreamCodecTest {

	@Test
	void aChangeEventDecodesAsTheClientWouldDecodeTheInstance() throws IOException {
		RegistryChange c = StreamCodec
			.change(Fixtures.changeData("MODIFIED", "ORDERS", "o1:8080", 8080, "OUT_OF_SERVICE", 42));
		assertThat(c.action()).isEqualTo(RegistryChange.Action.MODIFIED);
		assertThat(c.app()).isEqualTo("ORDERS");
		assertThat(c.version()).isEqualTo(42);
		assertThat(c.instance().getId()).isEqualTo("o1:8080");
		assertThat(c.instance().getStatus()).isEqualTo(InstanceInfo.InstanceStatus.OUT_OF_SERVICE);
		assertThat(c.instance().getPort()).isEqualTo(8080);
		assertThat(c.instance().getVIPAddress()).isEqualTo("orders");
		assertThat(c.instance().getMetadata()).containsEntry("zone", "zone-a");
		assertThat(c.key()).isEqualTo("ORDERS/o1:8080");
	}

	@Test
	void aSnapshotDecodesEveryApplication() throws IOException {
		Applications apps = StreamCodec.snapshot(Fixtures.snapshotData(i("A", "a1", "UP"), i("A", "a2", "DOWN"),
				i("B", "b1", "UP")));
		assertThat(apps.getRegisteredApplications()).hasSize(2);
		assertThat(apps.getRegisteredApplications("A").getInstancesAsIsFromEureka()).hasSize(2);
		assertThat(apps.getReconcileHashCode()).isEqualTo("DOWN_1_UP_2_");
	}

	@Test
	void malformedChangesAreRefusedNotGuessed() {
		assertThatThrownBy(() -> StreamCodec.change("{\"action\":\"MOVED\",\"version\":1,\"instance\":{}}"))
			.isInstanceOf(IOException.class)
			.hasMessageContaining("unknown action");
		assertThatThrownBy(() -> StreamCodec.change("{\"action\":\"ADDED\",\"instance\":{}}"))
			.isInstanceOf(IOException.class);
		assertThatThrownBy(() -> StreamCodec.change("not json")).isInstanceOf(IOException.class);
	}

}
