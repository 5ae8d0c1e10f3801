print("edgevec: under construction")
