depot_system_test(stock_e2e test_stock_e2e.py TIMEOUT 600)
depot_system_test(orders_e2e test_orders_e2e.py TIMEOUT 900)
