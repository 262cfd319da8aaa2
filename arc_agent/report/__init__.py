"""``arc report``: the Grafana dashboard's panels drawn into one self-contained HTML file."""
