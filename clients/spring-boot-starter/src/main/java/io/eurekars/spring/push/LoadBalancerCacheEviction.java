package io.eurekars.spring.push;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.cache.Cache;
import org.springframework.cloud.loadbalancer.cache.LoadBalancerCacheManager;
import org.springframework.cloud.loadbalancer.core.CachingServiceInstanceListSupplier;

/**
 * Empties Spring Cloud LoadBalancer's cache of instance lists (35 s by default), so the next
 * call reads the Eureka client's copy, which already holds the change. The whole cache goes:
 * its keys are the service ids as callers spelled them, and reading the copy is a map lookup.
 */
final class LoadBalancerCacheEviction implements Runnable {

	private final ObjectProvider<LoadBalancerCacheManager> managers;

	LoadBalancerCacheEviction(ObjectProvider<LoadBalancerCacheManager> managers) {
		this.managers = managers;
	}

	@Override
	public void run() {
		this.managers.forEach(manager -> {
			Cache cache = manager.getCache(CachingServiceInstanceListSupplier.SERVICE_INSTANCE_CACHE_NAME);
			if (cache != null) {
				cache.clear();
			}
		});
	}

}
