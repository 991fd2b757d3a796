from mailroom.cli import main

# The guard matters: the worker's staging helper process is started with
# "spawn", which imports this module again as __mp_main__.
if __name__ == "__main__":
    main()
