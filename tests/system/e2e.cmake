depot_system_test(stock_e2e test_stock_e2e.py TIMEOUT 600)
