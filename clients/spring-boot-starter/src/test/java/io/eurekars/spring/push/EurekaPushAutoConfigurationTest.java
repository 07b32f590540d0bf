package io.eurekars.spring.push;

import com.netflix.appinfo.ApplicationInfoManager;
import com.netflix.discovery.EurekaClient;
import com.netflix.discovery.EurekaClientConfig;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/**
 * What the auto-configuration creates, with the Eureka client's beans stood in by mocks: all of
 * it by default, none of it when push or the Eureka client is turned off.
 */
class EurekaPushAutoConfigurationTest {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(EurekaPushAutoConfiguration.class))
		.withBean(EurekaClientConfig.class, () -> {
			EurekaClientConfig config = mock(EurekaClientConfig.class);
			// No fetching: the stream bean exists but does not start a thread in these tests.
			when(config.shouldFetchRegistry()).thenReturn(false);
			return config;
		})
		.withBean(ApplicationInfoManager.class, () -> mock(ApplicationInfoManager.class))
		.withBean(EurekaClient.class, () -> mock(EurekaClient.class));

	@Test
	void byDefaultTheStreamTheRegistryCopyAndShutdownDeregistrationAreThere() {
		this.runner.run(context -> {
			assertThat(context).hasNotFailed();
			assertThat(context).hasSingleBean(ChangeStream.class);
			assertThat(context).hasSingleBean(LocalRegistry.class);
			assertThat(context).hasSingleBean(ShutdownDeregistration.class);
			assertThat(context).hasSingleBean(LoadBalancerCacheEviction.class);
			assertThat(context.getBean(ChangeStream.class).isRunning()).isFalse();
		});
	}

	@Test
	void pushEnabledFalseTurnsAllOfItOff() {
		this.runner.withPropertyValues("eureka.client.push.enabled=false").run(context -> {
			assertThat(context).hasNotFailed();
			assertThat(context).doesNotHaveBean(ChangeStream.class);
			assertThat(context).doesNotHaveBean(FetchObserver.class);
			assertThat(context).doesNotHaveBean(ShutdownDeregistration.class);
		});
	}

	@Test
	void aDisabledEurekaClientTurnsItOffToo() {
		this.runner.withPropertyValues("eureka.client.enabled=false").run(context -> {
			assertThat(context).hasNotFailed();
			assertThat(context).doesNotHaveBean(ChangeStream.class);
		});
	}

}
