package io.eurekars.spring.push;

import java.util.Collection;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.cache.Cache;
import org.springframework.cloud.loadbalancer.cache.LoadBalancerCacheManager;
import org.springframework.cloud.loadbalancer.core.CachingServiceInstanceListSupplier;

/**
 * Empties Spring Cloud LoadBalancer's cache of instance lists (35 s by default), so the next
 * call reads the Eureka client's copy, which already holds the change. The whole cache goes:
 * its keys are the service ids as callers spelled them, and reading the copy is a map lookup.
 *
 * <p>
 * The cache managers are looked up by type, not injected: Spring Cloud declares them
 * {@code autowireCandidate = false} so they do not collide with the application's own.
 */
final class LoadBalancerCacheEviction implements Runnable {

	private final ListableBeanFactory beans;

	private volatile Collection<LoadBalancerCacheManager> managers;

	LoadBalancerCacheEviction(ListableBeanFactory beans) {
		this.beans = beans;
	}

	@Override
	public void run() {
		Collection<LoadBalancerCacheManager> found = this.managers;
		if (found == null) {
			found = this.beans.getBeansOfType(LoadBalancerCacheManager.class, false, true).values();
			this.managers = found;
		}
		for (LoadBalancerCacheManager manager : found) {
			Cache cache = manager.getCache(CachingServiceInstanceListSupplier.SERVICE_INSTANCE_CACHE_NAME);
			if (cache != null) {
				cache.clear();
			}
		}
	}

}
