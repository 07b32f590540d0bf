package io.eurekars.spring.push;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import com.netflix.appinfo.InstanceInfo;
import com.netflix.discovery.shared.Applications;
import com.netflix.discovery.shared.transport.EurekaHttpResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.eurekars.spring.push.Fixtures.change;
import static io.eurekars.spring.push.Fixtures.copy;
import static io.eurekars.spring.push.Fixtures.i;
import static org.assertj.core.api.Assertions.assertThat;

class LocalRegistryTest {

	static final String SERVER = "http://127.0.0.1:8761/eureka/";

	final AtomicLong clock = new AtomicLong(1_000_000_000L);

	final FetchObserver fetches = new FetchObserver(this.clock::get);

	final AtomicReference<Applications> copy = new AtomicReference<>();

	final List<Map<String, List<RegistryChange>>> announced = new ArrayList<>();

	LocalRegistry registry;

	@BeforeEach
	void setUp() {
		this.copy.set(copy(i("A", "a1", "UP"), i("A", "a2", "UP"), i("B", "b1", "UP")));
		this.registry = new LocalRegistry(this.copy::get, true, this.fetches, (apps, v) -> this.announced.add(apps));
	}

	List<String> upIds(String vip) {
		return this.copy.get().getInstancesByVirtualHostName(vip).stream().map(InstanceInfo::getId).sorted().toList();
	}

	/** A fetch of the client, answered by the server at {@code version}, whose result is {@code result}. */
	void fetch(long version, Applications result) {
		this.fetches.started();
		this.fetches.answered(SERVER, true, EurekaHttpResponse.anEurekaHttpResponse(200, result)
			.headers(Map.of("x-eureka-version", Long.toString(version)))
			.build());
		this.copy.set(result);
	}

	@Test
	void aStatusChangeMakesTheCopyEqualToTheServersAndReachesItsIndexes() {
		this.registry.change(SERVER, change("MODIFIED", "A", "a2", "OUT_OF_SERVICE", 5));

		assertThat(upIds("a")).containsExactly("a1");
		// The hash the client will compare with the server's apps__hashcode on its next delta.
		assertThat(this.copy.get().getReconcileHashCode()).isEqualTo("OUT_OF_SERVICE_1_UP_2_");
		assertThat(this.copy.get().getAppsHashCode()).isEqualTo("OUT_OF_SERVICE_1_UP_2_");
		assertThat(this.announced).hasSize(1);
		assertThat(this.announced.get(0)).containsOnlyKeys("A");
		assertThat(this.registry.appliedVersion()).isEqualTo(5);
	}

	@Test
	void aNewInstanceIsAddedAndTheLastOneDeletedTakesItsApplication() {
		this.registry.change(SERVER, change("ADDED", "C", "c1", "UP", 3));
		assertThat(upIds("c")).containsExactly("c1");

		this.registry.change(SERVER, change("DELETED", "B", "b1", "UP", 4));
		assertThat(this.copy.get().getRegisteredApplications("B")).isNull();
		assertThat(upIds("b")).isEmpty();
		assertThat(this.copy.get().getReconcileHashCode()).isEqualTo("UP_3_");
	}

	@Test
	void aChangeWaitsWhileTheClientFetchesAndIsAppliedOnceTheFetchIsApplied() {
		this.fetches.started();
		this.registry.change(SERVER, change("MODIFIED", "A", "a2", "DOWN", 5));
		assertThat(upIds("a")).containsExactly("a1", "a2");
		assertThat(this.registry.waiting()).isEqualTo(1);

		// Answered at version 4, not yet applied by the client: still waiting.
		fetch(4, copy(i("A", "a1", "UP"), i("A", "a2", "UP"), i("B", "b1", "UP")));
		this.registry.flush();
		assertThat(this.registry.waiting()).isEqualTo(1);

		this.registry.refreshed();
		assertThat(upIds("a")).containsExactly("a1");
		assertThat(this.copy.get().getReconcileHashCode()).isEqualTo("DOWN_1_UP_2_");
		assertThat(this.registry.waiting()).isZero();
	}

	@Test
	void aFetchThatIsNeverAppliedHoldsChangesBackOnlyForTheGracePeriod() {
		fetch(4, copy(i("A", "a1", "UP"), i("A", "a2", "UP"), i("B", "b1", "UP")));
		this.registry.change(SERVER, change("MODIFIED", "A", "a2", "DOWN", 5));
		assertThat(this.registry.waiting()).isEqualTo(1);

		this.clock.addAndGet(FetchObserver.APPLY_GRACE_NANOS + 1);
		this.registry.flush();
		assertThat(upIds("a")).containsExactly("a1");
	}

	@Test
	void changesAnOlderFetchUndidAreAppliedAgainAndForgottenOnceAFetchHoldsThem() {
		this.registry.change(SERVER, change("MODIFIED", "A", "a2", "OUT_OF_SERVICE", 5));
		assertThat(upIds("a")).containsExactly("a1");

		// A delta the server built at version 4 (before the change) puts a2 back UP.
		fetch(4, copy(i("A", "a1", "UP"), i("A", "a2", "UP"), i("B", "b1", "UP")));
		this.registry.refreshed();
		assertThat(upIds("a")).containsExactly("a1");
		assertThat(this.copy.get().getReconcileHashCode()).isEqualTo("OUT_OF_SERVICE_1_UP_2_");

		// A fetch at version 6 holds the change (here a2 came back UP at 6): it is the truth now.
		fetch(6, copy(i("A", "a1", "UP"), i("A", "a2", "UP"), i("B", "b1", "UP")));
		this.registry.refreshed();
		assertThat(upIds("a")).containsExactly("a1", "a2");
	}

	@Test
	void aChangeTheLastFetchAlreadyHoldsIsNotAppliedAgain() {
		fetch(10, copy(i("A", "a1", "UP"), i("A", "a2", "UP"), i("B", "b1", "UP")));
		this.registry.refreshed();
		// Delivered late: the fetch at 10 already holds version 9 or something newer.
		this.registry.change(SERVER, change("MODIFIED", "A", "a2", "DOWN", 9));
		assertThat(upIds("a")).containsExactly("a1", "a2");
		assertThat(this.announced).isEmpty();
	}

	@Test
	void aSnapshotMakesTheCopyEqualToIt() throws Exception {
		Applications snapshot = StreamCodec
			.snapshot(Fixtures.snapshotData(i("A", "a1", "UP"), i("C", "c1", "UP"), i("C", "c2", "STARTING")));
		this.registry.snapshot(SERVER, 20, snapshot);

		Applications now = this.copy.get();
		assertThat(now.getRegisteredApplications("B")).isNull();
		assertThat(now.getRegisteredApplications("A").getInstancesAsIsFromEureka()).extracting(InstanceInfo::getId)
			.containsExactly("a1");
		assertThat(upIds("c")).containsExactly("c1");
		assertThat(now.getReconcileHashCode()).isEqualTo(snapshot.getReconcileHashCode());
		// a1 did not change for callers: only A (a2 gone), B and C are announced.
		assertThat(this.announced.get(0)).containsOnlyKeys("A", "B", "C");
		assertThat(this.announced.get(0).get("A")).extracting(c -> c.instance().getId()).containsExactly("a2");
	}

	@Test
	void changesFromAnotherServerAreNotComparedWithThisOnesVersions() {
		String other = "http://127.0.0.1:8762/eureka/";
		this.registry.change(other, change("MODIFIED", "A", "a2", "DOWN", 50));
		// The client fetched from SERVER at version 60: a number from another sequence.
		fetch(60, copy(i("A", "a1", "UP"), i("A", "a2", "UP"), i("B", "b1", "UP")));
		this.registry.refreshed();
		assertThat(upIds("a")).containsExactly("a1");
	}

	@Test
	void afterTheServerRestartsItsSmallerVersionsAreNotTakenAsOld() throws Exception {
		this.registry.change(SERVER, change("MODIFIED", "A", "a2", "DOWN", 9));
		fetch(10, copy(i("A", "a1", "UP"), i("A", "a2", "DOWN"), i("B", "b1", "UP")));
		this.registry.refreshed();

		// Restarted on the same URL: its snapshot is at version 2, its next change at 3.
		this.registry.snapshot(SERVER, 2, StreamCodec.snapshot(Fixtures.snapshotData(i("A", "a1", "UP"))));
		this.registry.change(SERVER, change("ADDED", "A", "a2", "UP", 3));
		assertThat(upIds("a")).containsExactly("a1", "a2");
		assertThat(this.registry.appliedVersion()).isEqualTo(3);
	}

}
